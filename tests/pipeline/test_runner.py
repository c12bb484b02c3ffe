"""The runner on a local process pool: parallel, resumable, failures isolated, bad input refused."""

from __future__ import annotations

import fcntl
import json
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from footdt.cohort.manifest import MANIFEST
from footdt.errors import FootdtError
from footdt.labels.store import LabelStore
from footdt.pipeline.plan import load_cohort, make_tasks
from footdt.pipeline.pool import LocalPool
from footdt.pipeline.runner import LOCK_FILE, RunOptions, run_cohort
from footdt.pipeline.state import RunState
from footdt.pipeline.steps import CompileStep, LabelsStep, SolveStep, Step, StepContext
from footdt.pipeline.trial import TrialOutcome
from footdt.spec.profile import default_profile
from tests.pipeline.conftest import make_cohort, snapshot


class Crash(Step):
    """A step whose process dies (SIGKILL, as the OOM killer does) for subject r02."""

    name = "crash"
    needs = ("model",)
    makes = ("survived",)

    def run(self, ctx: StepContext, values: Mapping[str, Any]) -> dict[str, Any]:
        if ctx.task.subject == "r02":
            os.kill(os.getpid(), signal.SIGKILL)
        return {"survived": True}


class Noop(Step):
    name = "noop"
    needs = ("spec",)
    makes = ("nothing",)

    def run(self, ctx: StepContext, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"nothing": 0}


def test_a_worker_that_dies_while_idle_loses_no_task(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort", subjects=1, trials=3)
    store = str(tmp_path / "labels.db")
    with LabelStore(store) as st:
        RunState.in_store(st)
    _, trials = load_cohort(cohort)
    tasks = make_tasks(trials, tmp_path / "out", "sfepy", default_profile("sfepy"), (Noop(),),
                       store_url=store, state_dir=None, vtu=False, capture_fds=True, threads=1)  # fmt: skip
    pool = LocalPool(1, 1)
    results = pool.run(tasks)
    first = next(results)  # the worker is idle now: the next task is sent on the next step
    victim = pool.workers[0].proc
    os.kill(victim.pid or 0, signal.SIGKILL)
    victim.join()
    outcomes = [first, *results]
    assert all(isinstance(o, TrialOutcome) for o in outcomes)  # no task was lost with it
    assert [(o.trial, o.status) for o in outcomes if isinstance(o, TrialOutcome)] == [
        ("t1", "done"), ("t2", "done"), ("t3", "done"),
    ]  # fmt: skip
    assert len(pool.pids) == 2  # the dead worker was replaced


def test_run_in_parallel_then_skip_then_retry_the_failed(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort")
    store = str(tmp_path / "labels.db")
    bad = cohort / "r02" / "t1" / "spec.yaml"
    good_text = bad.read_text()
    bad.write_text(good_text.replace("zmax", "no_such_face"))  # validates, fails to compile
    first = run_cohort(cohort, RunOptions(store=store, workers=4))  # 4 writers, one SQLite file
    assert first.counts() == {"done": 5, "up_to_date": 0, "failed": 1}
    assert first.threads == max(1, len(os.sched_getaffinity(0)) // 4)
    with LabelStore(store) as st:
        records = RunState.in_store(st).records("sfepy")
    assert sorted((r.status, r.step) for r in records) == sorted(
        [("done", s) for s in ("compile", "solve", "labels") for _ in range(5)]
        + [("failed", "compile")]
    )
    failed = next(o for o in first.outcomes if o.status == "failed")
    assert (failed.subject, failed.trial, failed.failed_step) == ("r02", "t1", "compile")
    assert "no_such_face" in failed.reason
    assert [(o.subject, o.trial) for o in first.outcomes] == [
        (f"r0{i}", f"t{j}") for i in (1, 2, 3) for j in (1, 2)
    ]  # report order = manifest order
    assert len(snapshot(store)) == 5 * 16
    logs = sorted(p.name for p in (cohort / "runs" / "sfepy" / "logs").iterdir())
    assert logs == ["r01.log", "r02.log", "r03.log"]
    assert json.loads(json.dumps(first.to_dict()))["counts"]["failed"] == 1

    again = run_cohort(cohort, RunOptions(store=store, workers=2))
    assert again.counts() == {"done": 0, "up_to_date": 5, "failed": 1}  # the failed one retried

    bad.write_text(good_text)
    fixed = run_cohort(cohort, RunOptions(store=store, workers=2))
    assert fixed.counts() == {"done": 1, "up_to_date": 5, "failed": 0}
    assert len(snapshot(store)) == 6 * 16


def test_a_dead_worker_fails_its_trial_only(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort")
    store = str(tmp_path / "labels.db")
    steps = (CompileStep(), Crash(), SolveStep(), LabelsStep())
    report = run_cohort(cohort, RunOptions(store=store, workers=2), steps=steps)
    by = {(o.subject, o.trial): o for o in report.outcomes}
    for t in ("t1", "t2"):
        o = by[("r02", t)]
        assert o.status == "failed" and o.failed_step == "crash"
        assert o.reason == "worker process died (killed by SIGKILL)"
    assert sum(o.status == "done" for o in report.outcomes) == 4
    with LabelStore(store) as st:
        rec = RunState.in_store(st).get("r02", "t1", "sfepy", "crash")
        assert rec is not None and rec.status == "failed" and "SIGKILL" in rec.reason
    assert {k[0] for k in snapshot(store)} == {"r01", "r03"}
    # without the crashing step the dead trials run; the others' solve keys did not change
    again = run_cohort(cohort, RunOptions(store=store, workers=2))
    assert {(o.subject, o.status) for o in again.outcomes} == {
        ("r01", "up_to_date"), ("r02", "done"), ("r03", "up_to_date"),
    }  # fmt: skip
    assert len(snapshot(store)) == 6 * 16


def _dup_subject(cohort: Path) -> str:
    data = json.loads((cohort / MANIFEST).read_text())
    data["subjects"][2]["id"] = data["subjects"][0]["id"]
    (cohort / MANIFEST).write_text(json.dumps(data))
    return "duplicate subject id(s): r01"


def _missing_spec(cohort: Path) -> str:
    (cohort / "r03" / "t2" / "spec.yaml").unlink()
    return "subject r03 trial t2: spec file r03/t2/spec.yaml does not exist"


def _wrong_ids(cohort: Path) -> str:
    spec = cohort / "r02" / "t1" / "spec.yaml"
    spec.write_text(spec.read_text().replace("id: r02", "id: r01"))
    return "is the spec of subject 'r01' trial 't1'"


def _bad_yaml(cohort: Path) -> str:
    spec = cohort / "r01" / "t2" / "spec.yaml"
    spec.write_text(spec.read_text().replace("E: 1.15", "E: -1.15"))
    return "r01/t2/spec.yaml:"


@pytest.mark.parametrize(
    ("break_it", "options"),
    [
        (_dup_subject, {}),
        (_missing_spec, {}),
        (_wrong_ids, {}),
        (_bad_yaml, {}),
        (None, {"store": "postgresql://nobody@127.0.0.1:1/footdt"}),
        (None, {"backend": "nosuch"}),
        (None, {"profile": Path("solvers/calculix.toml")}),
        (None, {"workers": 0}),
        (None, {"store": None}),
    ],
    ids=[
        "duplicate-subject",
        "missing-file",
        "spec-ids",
        "invalid-spec",
        "unreachable-store",
        "unknown-backend",
        "wrong-profile",
        "no-workers",
        "no-store",
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, break_it: Any, options: dict[str, Any]
) -> None:
    cohort = make_cohort(tmp_path / "cohort")
    expected = break_it(cohort) if break_it else ""
    before = sorted(p for p in tmp_path.rglob("*"))
    store = tmp_path / "labels.db"
    opts: dict[str, Any] = {"store": str(store), **options}
    if "profile" in opts:
        opts["profile"] = Path(__file__).parents[2] / opts["profile"]
    with pytest.raises(FootdtError) as err:
        run_cohort(cohort, RunOptions(**opts))
    msg = str(err.value)
    assert "\n" not in msg and expected in msg and "secret" not in msg
    assert sorted(p for p in tmp_path.rglob("*")) == before  # no store, no runs/, no logs
    assert not store.exists() and not (cohort / "runs").exists()


def test_one_run_per_run_directory(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort", subjects=1, trials=1)
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(FootdtError, match="in use by another `footdt run`"):
            run_cohort(cohort, RunOptions(store=str(tmp_path / "l.db"), out=out))
    finally:
        os.close(fd)
