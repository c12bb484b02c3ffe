"""``LabelStore``: label rows and their solves in a SQLite file or any SQLAlchemy database.

A plain path is a SQLite file (parent directories are created); anything with ``://`` is a
SQLAlchemy URL (``sqlite:///labels.db``, ``postgresql://user@host/db``). Two tables:

- ``labels``: one row per (subject, trial, phase, bone, stat, backend), values in MPa;
- ``solves``: one row per solve id (backend, version, hashes, wall time in s, max residual, info).

Writes are upserts in one transaction: putting the same rows again changes nothing, a new solve of
the same key replaces the old value (the last put wins), and solves no label refers to any more
are deleted. SQLite files use WAL journaling, ``BEGIN IMMEDIATE`` for writes and a busy timeout,
so several processes can write one file at once.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from footdt.errors import StoreError
from footdt.labels.reduce import LABEL_FIELDS, LabelRow
from footdt.labels.schema import (
    KEY,
    LABELS,
    SOLVES,
    SolveRecord,
    connect,
    sqlite_advice,
    sqlite_file,
)

if TYPE_CHECKING:
    import pandas as pd

Filter = str | Sequence[str] | None


class LabelStore:
    """Labels in a database. Use as a context manager or call ``close()``.

    ``create=False`` refuses to create a missing store (for commands that only read); such a
    store in a read-only place (a read-only directory or file system) is opened read-only.
    ``create=True`` refuses a store that cannot be written, before any work is done.
    """

    def __init__(self, url_or_path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.engine, self.display = connect(str(url_or_path), create=create)
        self.labels, self.solves = LABELS, SOLVES

    # ------------------------------------------------------------------ writing
    def put(
        self, rows: Sequence[LabelRow], solve: SolveRecord | Iterable[SolveRecord] | None = None
    ) -> int:
        """Upsert ``rows`` (and their solve records) in one transaction; return the row count.

        Without ``solve`` a minimal record per solve id is derived from the rows.
        """
        rows = list(rows)
        records = _records(rows, solve)
        if not rows:
            return 0
        for r in rows:
            if not math.isfinite(r.value_mpa):
                raise StoreError(
                    f"label {'/'.join(r.key)} is {r.value_mpa}; re-run the solve (nothing was written)"
                )
        label_values = [r.to_dict() for r in rows]
        solve_values = [rec.to_dict() for rec in records.values()]
        try:
            with self.engine.connect().execution_options(footdt_write=True) as conn, conn.begin():
                conn.execute(_upsert(conn, self.solves, ("solve_id",)), solve_values)
                conn.execute(_upsert(conn, self.labels, KEY), label_values)
                used = sa.select(self.labels.c.solve_id).distinct()
                conn.execute(sa.delete(self.solves).where(self.solves.c.solve_id.not_in(used)))
        except sa.exc.SQLAlchemyError as exc:
            first = _first_line(exc)
            raise StoreError(
                f"cannot write to label store {self.display} ({first}); "
                f"{sqlite_advice(first, self.engine.dialect.name, sqlite_file(self.engine.url))} "
                "(nothing was written)"
            ) from exc
        return len(rows)

    # ------------------------------------------------------------------ reading
    def query(
        self,
        subject: Filter = None,
        trial: Filter = None,
        phase: Filter = None,
        bone: Filter = None,
        stat: Filter = None,
        backend: Filter = None,
    ) -> list[LabelRow]:
        """Rows matching every given filter (a name or a list of names), in key order."""
        return self.first(None, subject=subject, trial=trial, phase=phase, bone=bone, stat=stat,
                          backend=backend)  # fmt: skip

    def first(self, limit: int | None, **filters: Filter) -> list[LabelRow]:
        """The first ``limit`` rows (None: all) of ``query`` with the same filters."""
        cols = self.labels.c
        stmt = sa.select(*(cols[f] for f in LABEL_FIELDS)).order_by(*(cols[k] for k in KEY))
        stmt = _where(stmt, cols, **filters)
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        return [_row(m) for m in self._fetch(stmt)]

    def count(self, **filters: Filter) -> int:
        """How many rows match the filters of ``query`` (counted by the database)."""
        stmt = _where(sa.select(sa.func.count().label("n")).select_from(self.labels),
                      self.labels.c, **filters)  # fmt: skip
        return int(self._fetch(stmt)[0]["n"])

    get = query  # same filters, same list result

    def exists(self, **filters: Filter) -> bool:
        """True when at least one row matches the filters of ``query``."""
        return bool(self.query(**filters))

    def solve(self, solve_id: str) -> SolveRecord | None:
        """The record of one solve, or None."""
        found = self._fetch(sa.select(self.solves).where(self.solves.c.solve_id == solve_id))
        return SolveRecord.from_mapping(found[0]) if found else None

    def backends(self) -> list[str]:
        stmt = sa.select(self.labels.c.backend).distinct().order_by(self.labels.c.backend)
        return [m["backend"] for m in self._fetch(stmt)]

    def describe(self) -> dict[str, Any]:
        """Counts per backend and the distinct subjects, trials, phases, bones and stats."""
        c = self.labels.c
        per_backend = self._fetch(
            sa.select(c.backend, sa.func.count().label("n")).group_by(c.backend).order_by(c.backend)
        )
        out: dict[str, Any] = {
            "store": self.display,
            "rows": sum(int(m["n"]) for m in per_backend),
            "solves": int(
                self._fetch(sa.select(sa.func.count().label("n")).select_from(self.solves))[0]["n"]
            ),
            "backends": {m["backend"]: int(m["n"]) for m in per_backend},
        }
        for name in ("subject", "trial", "phase", "bone", "stat"):
            found = self._fetch(sa.select(c[name]).distinct().order_by(c[name]))
            out[f"{name}s"] = [m[name] for m in found]
        return out

    def to_dataframe(self, **filters: Filter) -> pd.DataFrame:
        """The (filtered) rows as a pandas DataFrame with one column per ``LabelRow`` field."""
        import pandas as pd

        rows = self.query(**filters)
        return pd.DataFrame([r.to_dict() for r in rows], columns=list(LABEL_FIELDS))

    def export(self, path: str | os.PathLike[str], *, wide: bool = False, **filters: Filter) -> int:
        """Write the rows to ``.csv`` (with a Table Schema) or ``.parquet`` by suffix, typed and
        atomically; ``wide``: one row per subject, trial and backend (``footdt.labels.export``).
        Returns the row count of the file."""
        from footdt.labels.export import write_export

        return write_export(self.to_dataframe(**filters), path, wide=wide)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LabelStore({self.display!r})"

    def _fetch(self, stmt: Any) -> list[Any]:
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(stmt).mappings())
        except sa.exc.SQLAlchemyError as exc:
            first = _first_line(exc)
            raise StoreError(
                f"cannot read label store {self.display} ({first}); "
                f"{sqlite_advice(first, self.engine.dialect.name, sqlite_file(self.engine.url))}"
            ) from exc


def _where(stmt: Any, cols: Any, **filters: Filter) -> Any:
    for name, value in filters.items():
        if value is not None:
            values = [value] if isinstance(value, str) else list(value)
            stmt = stmt.where(cols[name].in_(values))
    return stmt


def _records(
    rows: list[LabelRow], solve: SolveRecord | Iterable[SolveRecord] | None
) -> dict[str, SolveRecord]:
    given = [solve] if isinstance(solve, SolveRecord) else list(solve or ())
    records = {rec.solve_id: rec for rec in given}
    for r in rows:
        if r.solve_id not in records:
            if given:
                raise StoreError(
                    f"label {'/'.join(r.key)} names solve {r.solve_id!r}, which is not among the solves "
                    "passed to put(); pass its SolveRecord (nothing was written)"
                )
            records[r.solve_id] = SolveRecord.from_rows(
                [x for x in rows if x.solve_id == r.solve_id]
            )
    return records


def _upsert(conn: sa.Connection, table: sa.Table, key: Sequence[str]) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE (SQLite and PostgreSQL, the dialects ``connect`` allows)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise StoreError(f"label stores on {dialect} are not supported; use SQLite or PostgreSQL")
    stmt: Any = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)
    update = {
        c.name: stmt.excluded[c.name]
        for c in table.columns
        if c.name not in key and not c.primary_key
    }
    return stmt.on_conflict_do_update(index_elements=list(key), set_=update)


def _row(m: Any) -> LabelRow:
    d = {f: m[f] for f in LABEL_FIELDS}
    d["value_mpa"] = float(d["value_mpa"])
    d["wall_time_s"] = float(d["wall_time_s"])
    d["residual"] = None if d["residual"] is None else float(d["residual"])
    d["max_on_boundary"] = bool(d["max_on_boundary"])
    return LabelRow(**d)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0] if text else ''}"
