"""Tables of the label store, the solve record, and opening/validating a database (SQLAlchemy Core).

Internal to ``footdt.labels.store``; the opening rules (what is a footdt store, what is refused)
live here so that every failure becomes a one-line ``StoreError`` before anything is written.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable

from footdt.errors import StoreError

if TYPE_CHECKING:
    from footdt.labels.reduce import LabelRow
    from footdt.results import SolveResult

#: The unique key of a label row.
KEY: tuple[str, ...] = ("subject", "trial", "phase", "bone", "stat", "backend")
#: Seconds a SQLite writer waits for another writer's lock before giving up.
BUSY_TIMEOUT_S = 60.0
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SUPPORTED = ("sqlite", "postgresql")

METADATA = sa.MetaData()
LABELS = sa.Table(
    "labels",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *(sa.Column(k, sa.String(128), nullable=False) for k in KEY[:5]),
    sa.Column("value_mpa", sa.Double, nullable=False),
    sa.Column("backend", sa.String(64), nullable=False),
    sa.Column("backend_version", sa.String(128), nullable=False),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("mesh_hash", sa.String(64), nullable=False),
    sa.Column("model_hash", sa.String(64), nullable=False),
    sa.Column(
        "solve_id", sa.String(64), sa.ForeignKey("solves.solve_id"), nullable=False, index=True
    ),
    sa.Column("wall_time_s", sa.Double, nullable=False),
    sa.Column("residual", sa.Double, nullable=True),
    sa.Column("max_on_boundary", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.UniqueConstraint(*KEY, name="uq_labels_key"),
)
SOLVES = sa.Table(
    "solves",
    METADATA,
    sa.Column("solve_id", sa.String(64), primary_key=True),
    sa.Column("backend", sa.String(64), nullable=False),
    sa.Column("backend_version", sa.String(128), nullable=False),
    sa.Column("subject", sa.String(128), nullable=False),
    sa.Column("trial", sa.String(128), nullable=False),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("mesh_hash", sa.String(64), nullable=False),
    sa.Column("model_hash", sa.String(64), nullable=False),
    sa.Column("wall_time_s", sa.Double, nullable=False),
    sa.Column("max_residual", sa.Double, nullable=True),
    sa.Column("info", sa.Text, nullable=False),  # JSON object
    sa.Column("created_at", sa.String(40), nullable=False),
)


@dataclass(frozen=True)
class SolveRecord:
    """One solve: backend, version, hashes, wall time (s), max relative residual, free-form info."""

    solve_id: str
    backend: str
    backend_version: str
    subject: str
    trial: str
    spec_hash: str
    mesh_hash: str
    model_hash: str
    wall_time_s: float
    max_residual: float | None
    info: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @classmethod
    def from_result(cls, result: SolveResult, solve_id: str) -> SolveRecord:
        return cls(
            solve_id=solve_id,
            backend=result.backend,
            backend_version=result.backend_version,
            subject=result.subject,
            trial=result.trial,
            spec_hash=result.spec_hash,
            mesh_hash=result.mesh_hash,
            model_hash=result.model_hash,
            wall_time_s=float(result.wall_time),
            max_residual=result.max_residual,
            info=json.loads(json.dumps(result.info, default=str)),
        )

    @classmethod
    def from_rows(cls, rows: Sequence[LabelRow]) -> SolveRecord:
        """A minimal record from the label rows of one solve (no info)."""
        r = rows[0]
        residuals = [x.residual for x in rows if x.residual is not None]
        return cls(
            solve_id=r.solve_id,
            backend=r.backend,
            backend_version=r.backend_version,
            subject=r.subject,
            trial=r.trial,
            spec_hash=r.spec_hash,
            mesh_hash=r.mesh_hash,
            model_hash=r.model_hash,
            wall_time_s=r.wall_time_s,
            max_residual=max(residuals) if residuals else None,
            created_at=r.created_at,
        )

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> SolveRecord:
        d = dict(m)
        d["info"] = json.loads(d["info"] or "{}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        """Column values (``info`` as JSON text; a NaN residual becomes NULL)."""
        d = asdict(self)
        d["info"] = json.dumps(self.info, sort_keys=True, default=str)
        if d["max_residual"] is not None and math.isnan(d["max_residual"]):
            d["max_residual"] = None
        return d


def _parse(url_or_path: str, create: bool) -> tuple[sa.URL, str, Path | None]:
    """The SQLAlchemy URL, a password-free display string, and the SQLite file (if any)."""
    if "://" in url_or_path:
        try:
            url = sa.make_url(url_or_path)
        except sa.exc.ArgumentError:
            raise StoreError(
                f"{url_or_path!r} is not a database URL; pass a file path or e.g. sqlite:///labels.db"
            ) from None
        display = url.render_as_string(hide_password=True)
    else:
        url = sa.URL.create("sqlite", database=str(Path(url_or_path).expanduser()))
        display = url_or_path
    backend = url.get_backend_name()
    if backend not in _SUPPORTED:
        raise StoreError(
            f"label store {display}: database {backend!r} is not supported; use SQLite or PostgreSQL"
        )
    if backend != "sqlite" or url.database in (None, "", ":memory:"):
        return url, display, None
    path = Path(url.database or "")
    if url.query.get("uri") or str(path).startswith("file:"):
        return url, display, None  # a SQLite URI filename: the caller chose the open mode
    if path.is_dir():
        raise StoreError(
            f"label store {display} is a directory; pass a file path such as {path / 'labels.db'}"
        )
    if path.exists():
        if not os.access(path, os.R_OK):
            raise StoreError(
                f"cannot read label store {display}: permission denied; check the file's permissions"
            )
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
        if head and head != _SQLITE_MAGIC:
            raise StoreError(
                f"{display} is not a footdt label store (not a SQLite file); pass a new path or an existing store"
            )
        if not writable(path):
            if create:
                raise StoreError(
                    f"label store {display} is read-only ({_why_readonly(path)}): labels cannot "
                    "be written there; pass --store with a path in a writable directory"
                )
            url = _readonly_url(path, display)
    elif not create:
        raise StoreError(
            f"no label store at {display}; write labels first (footdt solve --store or footdt labels import)"
        )
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create label store {display}: {exc.strerror or exc}; check the path"
            ) from exc
        if not os.access(path.parent, os.W_OK):
            raise StoreError(
                f"cannot create label store {display}: its directory {path.parent} is not "
                "writable (read-only file system or permissions); pass --store elsewhere"
            )
    if url.query.get("mode") == "ro":
        return url, display, None  # read-only: no WAL switch, no -shm of our own
    return url, display, path


def sqlite_file(url: sa.URL) -> Path | None:
    """The file of a SQLite URL (plain or ``file:`` URI), or None."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    db = str(url.database)
    return Path(unquote(db[5:]) if db.startswith("file:") else db)


def writable(path: Path) -> bool:
    """Whether a SQLite file and its directory are writable (its -wal and -shm files live there)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _why_readonly(path: Path) -> str:
    if not os.access(path.parent, os.W_OK):
        return f"its directory {path.parent} is not writable"
    return "the file is not writable"


def _readonly_url(path: Path, display: str) -> sa.URL:
    """A URI filename that reads a store in a read-only place. SQLite's WAL mode keeps a -shm
    index next to the file, which a reader creates: where it cannot, the file is opened
    ``immutable`` (no locks, no -shm; nobody can write there either). A leftover -wal file
    holds writes not yet in the main file: those need the -shm, so such a store is refused
    with what to do rather than read without them."""
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    query = {"mode": "ro", "uri": "true"}
    if wal.exists() and wal.stat().st_size > 0:
        if not shm.exists():
            raise StoreError(
                f"label store {display} is read-only and holds unfinished writes ({wal.name}) "
                "that cannot be read without a -shm file: copy the store with its -wal file to a "
                "writable directory and open it there"
            )
    elif not shm.exists() or not os.access(shm, os.R_OK):
        query["immutable"] = "1"
    return sa.URL.create("sqlite", database=f"file:{quote(str(path))}", query=query)


def sqlite_engine(url: sa.URL | str | Path) -> sa.Engine:
    """The one SQLite engine set-up of footdt (label stores and run-state files): a busy timeout,
    pysqlite's own transaction handling off, ``BEGIN`` for reads and ``BEGIN IMMEDIATE`` for
    writes (``execution_options(footdt_write=True)``). A path is a SQLite file. Call
    ``use_wal`` after it for a file shared by several processes."""
    if isinstance(url, Path):
        url = sa.URL.create("sqlite", database=str(url))
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (pysqlite's own is unreliable)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get("footdt_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def connect(url_or_path: str, *, create: bool) -> tuple[sa.Engine, str]:
    """Open (and if needed create) a label store; refuse anything that is not one, writing nothing."""
    url, display, path = _parse(url_or_path, create)
    try:
        engine = sqlite_engine(url) if url.get_backend_name() == "sqlite" else sa.create_engine(url)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise StoreError(
            f"label store {display}: the database driver is not installed ({exc}); "
            "install it (e.g. pip install 'psycopg[binary]') or use a SQLite file"
        ) from exc
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"label store {display}: bad URL ({exc}); fix the URL") from exc
    try:
        _validate(engine, display, create)
        if path is not None:
            use_wal(engine, display)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        orig = getattr(exc, "orig", None) or exc
        first = (str(orig).strip().splitlines() or [""])[0]
        raise StoreError(
            f"cannot open label store {display} ({type(orig).__name__}: {first}); "
            + sqlite_advice(first, url.get_backend_name(), sqlite_file(url))
        ) from exc
    except StoreError:
        engine.dispose()
        raise
    return engine, display


#: Free space (bytes) below which a failing SQLite file is said to be on a full disk.
FULL_DISK_BYTES = 1 << 20


def sqlite_advice(error: str, backend: str = "sqlite", path: str | Path | None = None) -> str:
    """What to do about a database error, by its text (disk full, read-only, locked...) and,
    for a SQLite file ``path``, the free space of its disk."""
    import shutil

    e = error.lower()
    full = "disk is full" in e or "no space" in e
    if not full and path is not None and backend == "sqlite":
        with contextlib.suppress(OSError):
            full = shutil.disk_usage(Path(path).parent).free < FULL_DISK_BYTES
    if full:
        return "the disk is full: free space, or pass --store on another disk"
    if "readonly" in e or "read-only" in e:
        return "the store or its directory is read-only: pass --store in a writable directory"
    if "locked" in e or "busy" in e:
        return "another program holds the store locked: retry when it has finished"
    if backend == "sqlite":
        return ("check the file's and its directory's permissions and free disk space, and that "
                "it is a footdt store")  # fmt: skip
    return "check that the database exists, is reachable and is a footdt store"


def use_wal(engine: sa.Engine, display: str) -> None:
    """Switch a SQLite file to WAL journaling (persistent), retrying while other writers hold locks.

    SQLite does not call the busy handler for this switch, so the retry is ours.
    """
    import sqlite3

    deadline = time.monotonic() + BUSY_TIMEOUT_S
    raw = engine.raw_connection()
    try:
        while True:
            cur = raw.cursor()
            try:
                cur.execute("PRAGMA journal_mode")
                mode = cur.fetchone()
                if mode is not None and str(mode[0]).lower() == "wal":
                    return
                cur.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise StoreError(
                        f"cannot switch {display} to WAL mode ({exc}); "
                        "close other programs that hold it open and retry"
                    ) from exc
                time.sleep(0.02)
            finally:
                cur.close()
    finally:
        raw.close()


def _validate(engine: sa.Engine, display: str, create: bool) -> None:
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        for table in (LABELS, SOLVES):
            if table.name in names:
                have = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
                missing = sorted(set(table.columns.keys()) - have)
                if missing:
                    raise StoreError(
                        f"{display} is not a footdt label store (table {table.name!r} lacks {missing}); "
                        "pass a new path or an existing store"
                    )
    ours = {LABELS.name, SOLVES.name}
    if ours <= names:
        return
    if not names & ours and names:
        raise StoreError(
            f"{display} is not a footdt label store (it holds tables {sorted(names)[:5]}); "
            "pass a new path or an existing store"
        )
    if not create:
        raise StoreError(
            f"{display} holds no labels yet; write labels first (footdt solve --store or footdt labels import)"
        )
    with engine.connect().execution_options(footdt_write=True) as conn, conn.begin():
        for table in (SOLVES, LABELS):
            conn.execute(CreateTable(table, if_not_exists=True))
            for index in table.indexes:
                conn.execute(CreateIndex(index, if_not_exists=True))
