"""File writing that never leaves half-written files behind."""

from __future__ import annotations

import contextlib
import fcntl
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
