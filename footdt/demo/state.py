"""The demo's memory between runs: ``OUT/demo-state.json`` holds, per stage, the key (a hash of
what the stage's result depends on), its summary and its wall time. A stage whose key is
unchanged and whose outputs still exist is skipped; the finite-element stage keeps its own,
finer state in the label store (``footdt.pipeline``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from footdt.fileio import atomic_write

STATE_FILE = "demo-state.json"
FORMAT = "footdt-demo-state"
VERSION = 1


def digest(*parts: Any) -> str:
    """A short hash of JSON-able values."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: str | Path) -> str:
    """SHA-256 (16 hex digits) of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class DemoState:
    """Per-stage records in ``OUT/demo-state.json`` (written after every finished stage)."""

    def __init__(self, out: Path) -> None:
        self.path = out / STATE_FILE
        self.stages: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text())
            except (OSError, ValueError):
                data = {}
            if data.get("format") == FORMAT and data.get("version") == VERSION:
                self.stages = dict(data.get("stages", {}))

    def summary(self, name: str, key: str, outputs: list[Path] | tuple[Path, ...] = ()) -> Any:
        """The recorded summary if ``name`` finished under ``key`` and ``outputs`` exist."""
        rec = self.stages.get(name)
        if rec is None or rec.get("key") != key or not all(Path(p).exists() for p in outputs):
            return None
        return rec.get("summary")

    def record(self, name: str, key: str, summary: Any, wall_time_s: float) -> None:
        self.stages[name] = {"key": key, "summary": summary, "wall_time_s": round(wall_time_s, 2)}
        self._write()

    def forget(self, *names: str) -> None:
        for n in names:
            self.stages.pop(n, None)
        self._write()

    def _write(self) -> None:
        text = json.dumps({"format": FORMAT, "version": VERSION, "stages": self.stages},
                          indent=1, default=str)  # fmt: skip
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, lambda tmp: tmp.write_text(text + "\n"))
