"""LabelStore: idempotent upserts, replacement, concurrent writers, exports, refusals."""

from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from footdt.errors import StoreError
from footdt.labels import LabelRow, store_result
from footdt.labels.schema import SolveRecord
from footdt.labels.store import LabelStore
from footdt.results import PhaseResult, SolveResult
from tests.factories import inclusion_model

PHASES = ("initial_contact", "mid_stance")
BONES = ("calcaneus", "talus")
STATS = ("mean", "p99")


def make_rows(
    subject: str, solve_id: str, value: float, backend: str = "sfepy", trial: str = "1"
) -> list[LabelRow]:
    """2 phases x 2 bones x 2 stats = 8 rows, values ``value + i``."""
    keys = [(p, b, s) for p in PHASES for b in BONES for s in STATS]
    return [
        LabelRow(
            subject=subject,
            trial=trial,
            phase=p,
            bone=b,
            stat=s,
            value_mpa=value + i,
            backend=backend,
            backend_version="2025.1",
            spec_hash="sp",
            mesh_hash="me",
            model_hash="mo",
            solve_id=solve_id,
            wall_time_s=1.5,
            residual=1e-9,
            max_on_boundary=(i % 2 == 0),
            created_at="2025-01-01T00:00:00+00:00",
        )
        for i, (p, b, s) in enumerate(keys)
    ]


def test_plain_path_creates_parents_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "labels.db"
    with LabelStore(path) as store:
        assert store.put(make_rows("s1", "solve1", 1.0)) == 8
    assert path.is_file()
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")} >= {
            "labels",
            "solves",
        }
    with LabelStore(f"sqlite:///{path}") as store:  # the same file by URL
        assert len(store.query()) == 8


def test_put_is_idempotent_and_roundtrips(tmp_path: Path) -> None:
    rows = make_rows("s1", "solve1", 10.0)
    with LabelStore(tmp_path / "l.db") as store:
        store.put(rows)
        store.put(rows)
        got = store.query()
        assert len(got) == 8
        assert sorted(got, key=lambda r: r.key) == sorted(rows, key=lambda r: r.key)
        assert store.describe()["solves"] == 1


def test_newer_solve_replaces_older_values(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "l.db") as store:
        store.put(make_rows("s1", "old", 10.0))
        store.put(make_rows("s2", "other", 1.0))
        store.put(make_rows("s1", "new", 20.0))
        s1 = store.query(subject="s1")
        assert len(s1) == 8 and {r.solve_id for r in s1} == {"new"}
        assert min(r.value_mpa for r in s1) == 20.0
        assert len(store.query()) == 16
        assert store.solve("old") is None  # no label refers to it any more
        assert store.solve("new") is not None and store.solve("other") is not None


def test_query_filters_exists_describe(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "l.db") as store:
        store.put(make_rows("s1", "x1", 1.0))
        store.put(make_rows("s1", "x2", 1.0, backend="calculix"))
        store.put(make_rows("s2", "x3", 1.0))
        assert len(store.query(backend="sfepy")) == 16
        assert len(store.get(subject="s1", phase="mid_stance", bone="talus")) == 4
        assert len(store.query(subject=["s1", "s2"], stat="p99", backend="sfepy")) == 8
        assert store.exists(subject="s2", backend="sfepy")
        assert not store.exists(subject="s2", backend="calculix")
        assert store.backends() == ["calculix", "sfepy"]
        d = store.describe()
        assert d["rows"] == 24 and d["solves"] == 3
        assert d["backends"] == {"calculix": 8, "sfepy": 16}
        assert d["subjects"] == ["s1", "s2"] and d["phases"] == sorted(PHASES)
        assert d["bones"] == sorted(BONES) and d["stats"] == sorted(STATS)


def test_solve_record_must_match_rows(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    with LabelStore(path) as store:
        rec = SolveRecord.from_rows(make_rows("s1", "other", 1.0))
        with pytest.raises(StoreError, match="not among the solves"):
            store.put(make_rows("s1", "solve1", 1.0), solve=rec)
        bad = make_rows("s1", "solve1", 1.0)
        bad[3] = replace(bad[3], value_mpa=float("nan"))
        with pytest.raises(StoreError, match="nan"):
            store.put(bad)
        bad[3] = replace(bad[3], value_mpa=float("inf"))
        with pytest.raises(StoreError, match="inf"):
            store.put(bad)
        assert store.query() == []


def test_store_result_reduces_and_stores_solve_info(tmp_path: Path) -> None:
    model = inclusion_model(divisions=4)
    rng = np.random.default_rng(0)
    result = SolveResult(
        subject=model.subject, trial=model.trial, backend="fake", backend_version="0",
        model_hash=model.content_hash(), spec_hash="sp", mesh_hash=model.mesh_hash(),
        element_volume=np.full(model.n_elements, 0.5),
        phases={p.name: PhaseResult(p.name, rng.uniform(0, 3, model.n_elements), residual=r)
                for p, r in zip(model.phases, (1e-9, 3e-9), strict=True)},
        wall_time=4.0, info={"threads": 2},
    )  # fmt: skip
    rows = store_result(tmp_path / "l.db", result, model)
    assert len(rows) == 2 * 2 * 4
    with LabelStore(tmp_path / "l.db") as store:
        assert sorted(store.query(), key=lambda r: r.key) == sorted(rows, key=lambda r: r.key)
        rec = store.solve(rows[0].solve_id)
    assert rec is not None and rec.info == {"threads": 2}
    assert rec.max_residual == 3e-9 and rec.wall_time_s == 4.0 and rec.backend == "fake"


def test_export_csv_and_parquet_roundtrip(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "l.db") as store:
        store.put(make_rows("s1", "x1", 1.25))
        store.put(make_rows("s2", "x2", 7.5, trial="2"))
        expected = store.to_dataframe()
        assert store.export(tmp_path / "out" / "labels.csv") == 16
        assert store.export(tmp_path / "labels.parquet") == 16
        with pytest.raises(StoreError, match=r"\.csv or \.parquet"):
            store.export(tmp_path / "labels.xlsx")
    numeric = ("value_mpa", "wall_time_s", "residual", "max_on_boundary")
    text = [c for c in expected.columns if c not in numeric]
    csv = pd.read_csv(tmp_path / "out" / "labels.csv", dtype=dict.fromkeys(text, str))
    assert list(csv.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(csv, expected, check_dtype=False)
    pq = pd.read_parquet(tmp_path / "labels.parquet")
    pd.testing.assert_frame_equal(pq.astype({c: object for c in text}).assign(
        created_at=pq.created_at.map(lambda t: t.isoformat())), expected, check_dtype=False)  # fmt: skip
    assert pq["max_on_boundary"].dtype == bool and pq["value_mpa"].dtype == np.float64
    assert not (tmp_path / "labels.xlsx").exists()


def test_exports_read_back_with_their_types(tmp_path: Path) -> None:
    """trial '01' stays '01', backend version '2.20' stays '2.20', created_at is a timestamp,
    in CSV (through its Table Schema) and Parquet, long and wide."""
    from footdt.labels.export import read_export

    rows = [replace(r, backend_version="2.20") for r in make_rows("007", "x1", 1.25, trial="01")]
    rows += make_rows("s2", "x2", 7.5, backend="calculix", trial="10")
    with LabelStore(tmp_path / "l.db") as store:
        store.put(rows)
        for name in ("l.csv", "l.parquet"):
            assert store.export(tmp_path / name) == 16
            assert store.export(tmp_path / f"w{name}", wide=True) == 2
    for name in ("l.csv", "l.parquet"):
        long = read_export(tmp_path / name)
        assert set(long.trial) == {"01", "10"} and set(long.subject) == {"007", "s2"}
        assert set(long.backend_version) == {"2.20", "2025.1"}
        assert (
            str(long.created_at.dtype).startswith("datetime64")
            and str(long.created_at.dt.tz) == "UTC"
        )
        assert long.value_mpa.dtype == np.float64 and long.max_on_boundary.dtype == bool
        assert long.residual.isna().sum() == 0 or long.residual.dtype == np.float64
        wide = read_export(tmp_path / f"w{name}")
        assert list(wide.columns[:8]) == ["subject", "trial", "backend", "backend_version",
                                          "solve_id", "model_hash", "wall_time_s", "created_at"]  # fmt: skip
        first = wide[wide.subject == "007"].iloc[0]
        assert first.trial == "01" and first.backend_version == "2.20"
        assert first["initial_contact.calcaneus.mean"] == 1.25
        assert first["mid_stance.talus.p99"] == 1.25 + 7
        assert list(wide.columns[8:10]) == [
            "initial_contact.calcaneus.mean",
            "initial_contact.calcaneus.p99",
        ]
    csv_schema = json.loads((tmp_path / "l.csv.schema.json").read_text())
    assert {f["name"]: f["type"] for f in csv_schema["fields"]}["trial"] == "string"


# ---------------------------------------------------------------------- refusals
def test_random_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes\n")
    with pytest.raises(StoreError, match="not a footdt label store") as err:
        LabelStore(path)
    assert "\n" not in str(err.value)
    assert path.read_text() == "these are my notes\n"


def test_foreign_sqlite_db_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE people (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a footdt label store"):
        LabelStore(path)
    assert path.read_bytes() == before
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_missing_store_not_created_when_reading(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no label store"):
        LabelStore(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize(
    "url",
    [
        "nosuchdb://host/db",
        "postgresql://user:secret@127.0.0.1:1/db",  # no driver or nothing listening: either way refused
        "sqlite:///{tmp}/file.txt/labels.db",  # parent is a file
        "{tmp}",  # a directory
    ],
)
def test_bad_urls_are_one_line_store_errors(tmp_path: Path, url: str) -> None:
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(StoreError) as err:
        LabelStore(url.format(tmp=tmp_path))
    msg = str(err.value)
    assert "\n" not in msg and "secret" not in msg and "label store" in msg


# ---------------------------------------------------------------------- concurrency
N_WRITERS, N_PUTS = 4, 25


def _writer(path: str, worker: int, barrier: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    store = LabelStore(path)
    for i in range(N_PUTS):
        store.put(make_rows(f"w{worker}", f"w{worker}-{i}", float(i), trial=str(i)))
        # every writer also rewrites one shared subject: one transaction, so one writer wins it all
        store.put(make_rows("shared", f"shared-{worker}-{i}", 100.0 * worker + i))
    store.close()


def test_concurrent_writer_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "concurrent.db")
    # fork (Linux) avoids re-importing numpy/pandas per child; the parent holds no open store
    ctx: Any = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    barrier = ctx.Barrier(N_WRITERS)
    procs = [ctx.Process(target=_writer, args=(path, w, barrier)) for w in range(N_WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * N_WRITERS
    with LabelStore(path) as store:
        rows = store.query()
        assert len(rows) == N_WRITERS * N_PUTS * 8 + 8
        assert len({r.key for r in rows}) == len(rows)
        for w in range(N_WRITERS):
            mine = store.query(subject=f"w{w}")
            assert len(mine) == N_PUTS * 8
            assert {r.solve_id for r in mine} == {f"w{w}-{i}" for i in range(N_PUTS)}
        shared = store.query(subject="shared")
        assert len(shared) == 8 and len({r.solve_id for r in shared}) == 1
        assert store.describe()["solves"] == N_WRITERS * N_PUTS + 1


# ---------------------------------------------------------------------- read-only and full disks
def _read_only_place(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """As seen by a user without write access (or on a read-only file system): ``os.access``
    denies writing in ``directory``. Root passes permission checks, so this stands in for them;
    ``test_store_on_a_read_only_file_system`` checks a real read-only mount where possible."""
    import os

    real = os.access

    def access(p: Any, mode: int, *a: Any, **k: Any) -> bool:
        if mode & os.W_OK and Path(p).resolve().is_relative_to(directory.resolve()):
            return False
        return real(p, mode, *a, **k)

    monkeypatch.setattr(os, "access", access)


def test_store_in_a_read_only_directory_is_read_and_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ro" / "l.db"
    with LabelStore(path) as store:
        store.put(make_rows("s1", "x1", 1.0))
    before = sorted(p.name for p in path.parent.iterdir())
    _read_only_place(monkeypatch, path.parent)
    with LabelStore(path, create=False) as store:  # a reader opens it immutable: no -shm
        assert len(store.query()) == 8 and store.describe()["rows"] == 8
    assert sorted(p.name for p in path.parent.iterdir()) == before
    with pytest.raises(StoreError) as err:
        LabelStore(path)  # a writer is refused before any work
    msg = str(err.value)
    assert "is read-only (its directory" in msg and "pass --store" in msg
    assert "exist" not in msg  # the store exists: the message must not blame that


def test_store_on_a_read_only_file_system(tmp_path: Path) -> None:
    """A real read-only tmpfs (root only): read, export, and a writer refused in one line."""
    import os
    import subprocess

    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                                            str(mnt)], capture_output=True).returncode:  # fmt: skip
        pytest.skip("needs root and mount (a read-only tmpfs)")
    try:
        with LabelStore(mnt / "l.db") as store:
            store.put(make_rows("s1", "x1", 1.0))
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        with LabelStore(mnt / "l.db", create=False) as store:
            assert len(store.query()) == 8
            assert store.export(tmp_path / "out.csv") == 8
        with pytest.raises(StoreError, match="is read-only"):
            LabelStore(mnt / "l.db")
        with pytest.raises(StoreError, match="is not writable"):
            LabelStore(mnt / "new.db")
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_full_disk_messages_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    from footdt.labels.schema import sqlite_advice

    assert "disk is full" in sqlite_advice("database or disk is full")
    assert "read-only" in sqlite_advice("attempt to write a readonly database")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(100, 100, 0))
    # SQLite says only "disk I/O error" when it cannot grow the -shm on a full disk
    assert "the disk is full" in sqlite_advice("disk I/O error", "sqlite", tmp_path / "l.db")
    store = LabelStore(tmp_path / "l.db")

    def full(*_a: Any, **_k: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store.engine.dialect, "do_executemany", full)
    monkeypatch.setattr(store.engine.dialect, "do_execute", full)
    with pytest.raises(StoreError) as err:
        store.put(make_rows("s1", "x1", 1.0))
    store.close()
    assert "the disk is full" in str(err.value) and "nothing was written" in str(err.value)
