"""RunState: records round-trip, one transaction per write, read-only opening writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from footdt.errors import StoreError
from footdt.labels.store import LabelStore
from footdt.pipeline.state import STATE_FILE, RunState


def test_records_round_trip_in_the_store_database(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "labels.db") as store:
        state = RunState.in_store(store)
        assert state.get("s1", "t1", "sfepy", "compile") is None
        state.start("s1", "t1", "sfepy", "compile", "k1", {"spec": "abc"})
        rec = state.get("s1", "t1", "sfepy", "compile")
        assert rec is not None and rec.status == "running" and rec.inputs == {"spec": "abc"}
        state.finish("s1", "t1", "sfepy", "compile", "k1", {"spec": "abc"}, {"model": "m1"},
                     rec.started_at, 1.5)  # fmt: skip
        rec = state.get("s1", "t1", "sfepy", "compile")
        assert rec is not None and rec.status == "done" and rec.outputs == {"model": "m1"}
        assert rec.duration_s == 1.5 and rec.finished_at
        state.start("s1", "t1", "sfepy", "solve", "k2", {"model": "m1"})
        state.start("s1", "t2", "sfepy", "solve", "k3", {"model": "m2"})
        assert state.fail_running("s1", "t1", "sfepy", "worker died") == ["solve"]
        failed = state.get("s1", "t1", "sfepy", "solve")
        assert failed is not None and failed.status == "failed" and failed.reason == "worker died"
        other = state.get("s1", "t2", "sfepy", "solve")
        assert other is not None and other.status == "running"  # another trial: untouched
        assert [r.step for r in state.records("sfepy")] == ["compile", "solve", "solve"]
        assert state.backends() == ["sfepy"]
        # the label tables are still a valid store next to ours
        assert store.describe()["rows"] == 0


def test_read_only_state_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no run state"):
        RunState.in_directory(tmp_path, create=False)
    assert not (tmp_path / STATE_FILE).exists()
    LabelStore(tmp_path / "labels.db").close()
    with LabelStore(tmp_path / "labels.db", create=False) as store:
        state = RunState.in_store(store, create=False)
        assert state.records() == [] and state.get("a", "b", "c", "d") is None
        assert "pipeline_steps" not in sa.inspect(store.engine).get_table_names()


def test_directory_state_is_a_wal_sqlite_file(tmp_path: Path) -> None:
    state = RunState.in_directory(tmp_path)
    state.fail("s1", "t1", "abaqus", "deck", "k", "disk full")
    state.close()
    again = RunState.in_directory(tmp_path, create=False)
    rec = again.get("s1", "t1", "abaqus", "deck")
    assert rec is not None and rec.status == "failed" and rec.reason == "disk full"
    with again.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    again.close()
