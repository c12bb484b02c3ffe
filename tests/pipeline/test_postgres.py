"""A cohort into a real PostgreSQL server (started here in a temporary directory) through the same
SQLAlchemy code as SQLite: same labels, resumable, ``status`` works, concurrent writers are safe.

Needs Debian's PostgreSQL server binaries (``apt-get install postgresql``) and the ``psycopg``
driver (``pip install 'psycopg[binary]'``); skipped with the reason when either is missing.
As root the server runs as user ``nobody`` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from footdt.labels.store import LabelStore
from footdt.pipeline.runner import RunOptions, run_cohort
from footdt.pipeline.status import cohort_status
from tests.labels.test_store import N_PUTS, N_WRITERS, _writer
from tests.pipeline.conftest import assert_same_store, make_cohort

pytestmark = pytest.mark.slow  # a server start, worker processes: ~15 s


def _bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """URL of the maintenance database of a throwaway server on a free loopback port."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    pytest.importorskip("psycopg", reason="the PostgreSQL driver: pip install 'psycopg[binary]'")
    root = Path(tempfile.mkdtemp(prefix="footdt-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "nobody")
        as_user = ["runuser", "-u", "nobody", "--"]
    data, port = root / "data", _free_port()
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "footdt", "--auth=trust"],
        check=True, capture_output=True,
    )  # fmt: skip
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*pg_ctl, "-l", str(root / "log"), "-w", "-t", "60", "-o", opts, "start"],
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql://footdt@127.0.0.1:{port}"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


def test_cohort_into_postgresql_equals_sqlite(server: str, tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort", subjects=2, trials=2)
    url = _database(server, "cohort_run")
    sqlite = str(tmp_path / "labels.db")
    run_cohort(cohort, RunOptions(store=sqlite, workers=2, out=tmp_path / "sqlite"))
    report = run_cohort(cohort, RunOptions(store=url, workers=2, out=tmp_path / "pg"))
    assert report.counts()["done"] == 4 and report.store == url
    assert_same_store(url, sqlite)
    assert run_cohort(cohort, RunOptions(store=url, out=tmp_path / "pg")).counts() == {
        "done": 0, "up_to_date": 4, "failed": 0,
    }  # fmt: skip
    rows = cohort_status(cohort, store=url, out=tmp_path / "pg")
    assert [r["status"] for r in rows] == ["done"] * 4


def test_concurrent_writers_on_postgresql(server: str) -> None:
    """The SQLite check of tests/labels/test_store.py, on PostgreSQL: no lost or duplicated rows."""
    url = _database(server, "concurrent")
    LabelStore(url).close()  # create the tables once, as `footdt run` does before its workers
    ctx: Any = mp.get_context("fork")
    barrier = ctx.Barrier(N_WRITERS)
    procs = [ctx.Process(target=_writer, args=(url, w, barrier)) for w in range(N_WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * N_WRITERS
    with LabelStore(url) as store:
        rows = store.query()
        assert len(rows) == N_WRITERS * N_PUTS * 8 + 8
        assert len({r.key for r in rows}) == len(rows)
        shared = store.query(subject="shared")
        assert len(shared) == 8 and len({r.solve_id for r in shared}) == 1
        assert store.describe()["solves"] == N_WRITERS * N_PUTS + 1
