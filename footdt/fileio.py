"""File writing that never leaves half-written files behind."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def canonical_json(data: Any) -> str:
    """``data`` as canonical JSON text: sorted keys, no spaces, ``str()`` of anything else."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def json_digest(data: Any, length: int = 16) -> str:
    """SHA-256 (first ``length`` hex digits) of the canonical JSON of ``data``: the one content
    address of JSON-able values (spec hashes, pipeline step keys, model metadata)."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()[:length]


def new_temporary(path: str | Path) -> Path:
    """Create an empty ``.NAME.<random>.tmp`` next to ``path`` and return it.

    Created with mode 0666 less the process umask (as ``open()`` would), not the 0600 of
    ``tempfile.mkstemp``: once renamed into place, colleagues who may read the folder may read
    the file too."""
    p = Path(path)
    while True:
        tmp = p.parent / f".{p.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
        os.close(fd)
        return tmp


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it into place.

    The file gets the permissions of a newly created file (0666 less the umask)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temporary(p)
    try:
        write(Path(tmp))
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


@contextlib.contextmanager
def exclusive_lock(path: Path, busy: str, error: type[Exception] | None = None) -> Iterator[None]:
    """Hold an advisory lock on ``path`` (created if needed; the kernel drops it if we die);
    if another process holds it, raise ``error(busy)`` (default ``FootdtError``) at once."""
    from footdt.errors import FootdtError

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise (error or FootdtError)(busy) from None
        yield
    finally:
        os.close(fd)


def cached_file(
    path: Path,
    load: Callable[[Path], T],
    build: Callable[[], T],
    save: Callable[[T, Path], object],
    damaged: type[Exception],
) -> T:
    """``load(path)`` if it reads, else ``build()`` and ``save(value, path)`` it: a cache entry
    that is damaged (``damaged`` raised by ``load``) is deleted and rebuilt."""
    if path.exists():
        try:
            return load(path)
        except damaged:
            path.unlink(missing_ok=True)
    value = build()
    save(value, path)
    return value


def source_digest(*modules: str) -> str:
    """SHA-256 (16 hex digits) of the source of footdt modules (paths relative to the package,
    e.g. ``"mesh/foot.py"``): part of a cache key, so that a cached result made by other code
    (an upgrade, a development checkout) is rebuilt rather than reused."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for rel in modules:
        h.update(rel.encode())
        h.update((root / rel).read_bytes())
    return h.hexdigest()[:16]
