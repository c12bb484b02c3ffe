"""File writing that never leaves half-written files behind."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it into place."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    os.close(fd)
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
