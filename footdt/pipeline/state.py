"""Run state: one record per (subject, trial, backend, step) — running, done or failed (with why).

The records live in table ``pipeline_steps`` of the label store's database (so every worker of a
distributed run, and ``footdt status``, see the same state), or — for runs that write no labels,
such as Abaqus deck generation — in ``footdt-state.db``, a SQLite file in the run directory.
Every write is one transaction (an upsert of one row): a run killed at any point leaves each
record either as it was or fully replaced. A record is *done* for a given input key only; a new
key (spec edited, backend upgraded) makes the step stale, whatever its status.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from footdt.errors import StoreError

if TYPE_CHECKING:
    from footdt.labels.store import LabelStore

Status = Literal["running", "done", "failed"]
STATE_FILE = "footdt-state.db"
_KEY = ("subject", "trial", "backend", "step")

METADATA = sa.MetaData()
STEPS = sa.Table(
    "pipeline_steps",
    METADATA,
    *(sa.Column(k, sa.String(128), primary_key=True) for k in _KEY),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("inputs", sa.Text, nullable=False),  # JSON: what the key was made of
    sa.Column("outputs", sa.Text, nullable=False),  # JSON: hashes and paths the step produced
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("finished_at", sa.String(40), nullable=True),
    sa.Column("duration_s", sa.Double, nullable=True),
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class StepRecord:
    """The last thing that happened to one step of one trial."""

    subject: str
    trial: str
    backend: str
    step: str
    status: Status
    key: str
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    host: str = ""
    pid: int = 0
    started_at: str = ""
    finished_at: str | None = None
    duration_s: float | None = None

    @classmethod
    def from_mapping(cls, m: Any) -> StepRecord:
        d = dict(m)
        d["inputs"] = json.loads(d["inputs"] or "{}")
        d["outputs"] = json.loads(d["outputs"] or "{}")
        return cls(**d)


class RunState:
    """Step records in a database (SQLAlchemy engine). ``create=False`` never writes anything."""

    def __init__(self, engine: sa.Engine, display: str, *, create: bool = True) -> None:
        self.engine, self.display = engine, display
        if create:
            self._write(lambda conn: conn.execute(CreateTable(STEPS, if_not_exists=True)))

    @classmethod
    def in_store(cls, store: LabelStore, *, create: bool = True) -> RunState:
        """State kept in the label store's own database (SQLite file or PostgreSQL)."""
        return cls(store.engine, store.display, create=create)

    @classmethod
    def in_directory(cls, directory: str | Path, *, create: bool = True) -> RunState:
        """State kept in ``directory/footdt-state.db`` (a SQLite file, WAL)."""
        path = Path(directory) / STATE_FILE
        if not create and not path.is_file():
            raise StoreError(f"no run state at {path}; nothing has run into {directory} yet")
        from footdt.labels.schema import sqlite_engine, use_wal

        engine = sqlite_engine(path)
        use_wal(engine, str(path))
        return cls(engine, str(path), create=create)

    # ------------------------------------------------------------------ reading
    def get(self, subject: str, trial: str, backend: str, step: str) -> StepRecord | None:
        c = STEPS.c
        stmt = sa.select(STEPS).where(
            c.subject == subject, c.trial == trial, c.backend == backend, c.step == step
        )
        found = self._read(stmt)
        return StepRecord.from_mapping(found[0]) if found else None

    def records(self, backend: str | None = None) -> list[StepRecord]:
        stmt = sa.select(STEPS).order_by(*(STEPS.c[k] for k in _KEY))
        if backend is not None:
            stmt = stmt.where(STEPS.c.backend == backend)
        return [StepRecord.from_mapping(m) for m in self._read(stmt)]

    def backends(self) -> list[str]:
        stmt = sa.select(STEPS.c.backend).distinct().order_by(STEPS.c.backend)
        return [m["backend"] for m in self._read(stmt)]

    # ------------------------------------------------------------------ writing
    def start(self, subject: str, trial: str, backend: str, step: str, key: str,
              inputs: dict[str, Any]) -> None:  # fmt: skip
        """Mark a step running (replacing whatever was recorded before)."""
        self._put(subject, trial, backend, step, status="running", key=key, inputs=inputs)

    def finish(self, subject: str, trial: str, backend: str, step: str, key: str,
               inputs: dict[str, Any], outputs: dict[str, Any], started_at: str,
               duration_s: float) -> None:  # fmt: skip
        self._put(subject, trial, backend, step, status="done", key=key, inputs=inputs,
                  outputs=outputs, started_at=started_at, finished_at=now(),
                  duration_s=duration_s)  # fmt: skip

    def fail(self, subject: str, trial: str, backend: str, step: str, key: str, reason: str,
             inputs: dict[str, Any] | None = None, started_at: str | None = None,
             duration_s: float | None = None) -> None:  # fmt: skip
        self._put(subject, trial, backend, step, status="failed", key=key, inputs=inputs or {},
                  reason=reason, started_at=started_at or now(), finished_at=now(),
                  duration_s=duration_s)  # fmt: skip

    def fail_running(self, subject: str, trial: str, backend: str, reason: str) -> list[str]:
        """Mark every step of a trial still recorded as running failed (its process died)."""
        c = STEPS.c
        where = (
            c.subject == subject,
            c.trial == trial,
            c.backend == backend,
            c.status == "running",
        )
        stmt = sa.update(STEPS).where(*where).values(status="failed", reason=reason,
                                                     finished_at=now())  # fmt: skip
        steps = [m["step"] for m in self._read(sa.select(c.step).where(*where))]
        self._write(lambda conn: conn.execute(stmt))
        return steps

    def _put(self, subject: str, trial: str, backend: str, step: str, **values: Any) -> None:
        row: dict[str, Any] = {
            "subject": subject, "trial": trial, "backend": backend, "step": step,
            "reason": "", "host": socket.gethostname(), "pid": os.getpid(),
            "started_at": now(), "finished_at": None, "duration_s": None, **values,
        }  # fmt: skip
        row["inputs"] = json.dumps(row.get("inputs", {}), sort_keys=True, default=str)
        row["outputs"] = json.dumps(row.get("outputs", {}), sort_keys=True, default=str)
        self._write(lambda conn: conn.execute(_upsert(conn), row))

    # ------------------------------------------------------------------ plumbing
    def _write(self, fn: Any) -> None:
        try:
            with self.engine.connect().execution_options(footdt_write=True) as conn, conn.begin():
                fn(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot write run state to {self.display}: {_first(exc)}") from None

    def _read(self, stmt: Any) -> list[Any]:
        try:
            with self.engine.connect() as conn:
                if not sa.inspect(conn).has_table(STEPS.name):
                    return []
                return list(conn.execute(stmt).mappings())
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot read run state from {self.display}: {_first(exc)}") from None

    def close(self) -> None:
        self.engine.dispose()


def _upsert(conn: sa.Connection) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    name = conn.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise StoreError(f"run state on {name} is not supported; use SQLite or PostgreSQL")
    stmt: Any = (sqlite.insert if name == "sqlite" else postgresql.insert)(STEPS)
    update = {c.name: stmt.excluded[c.name] for c in STEPS.columns if c.name not in _KEY}
    return stmt.on_conflict_do_update(index_elements=list(_KEY), set_=update)


def _first(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0] if lines else ''}"
