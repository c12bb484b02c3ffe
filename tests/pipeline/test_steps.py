"""Steps keyed by content hashes, run in this process: skip what is done, redo what is stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from footdt.labels.store import LabelStore
from footdt.pipeline import steps as steps_mod
from footdt.pipeline.plan import load_cohort, make_tasks
from footdt.pipeline.state import RunState
from footdt.pipeline.steps import TrialTask, solve_steps
from footdt.pipeline.trial import assess, run_trial
from footdt.spec.profile import SolverProfile, default_profile, options_for
from tests.pipeline.conftest import make_cohort, write_trial_spec


def _task(cohort: Path, store: str, profile: SolverProfile | None = None) -> TrialTask:
    _, trials = load_cohort(cohort)
    return make_tasks(
        trials[:1], cohort / "runs", "sfepy", profile or default_profile("sfepy"), solve_steps(),
        store_url=store, state_dir=None, vtu=False, capture_fds=False, threads=1,
    )[0]  # fmt: skip


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, str, RunState]:
    cohort = make_cohort(tmp_path / "cohort", subjects=1, trials=1)
    store = str(tmp_path / "labels.db")
    return cohort, store, RunState.in_store(LabelStore(store))


def test_first_run_does_every_step_then_nothing(setup: tuple[Path, str, RunState]) -> None:
    cohort, store, state = setup
    task = _task(cohort, store)
    assert assess(task, state).status == "pending"
    first = run_trial(task)
    assert first.status == "done" and first.steps_run == ("compile", "solve", "labels")
    assert first.peak_rss_mb > 0 and Path(first.log).read_text().count("done in") == 3
    with LabelStore(store) as st:  # 2 phases x 2 parts x 4 statistics
        assert len(st.query(subject="r01", trial="t1")) == 16
    assert assess(task, state).status == "done"
    again = run_trial(task)
    assert again.status == "up_to_date" and again.steps_run == ()


def test_an_edited_spec_reruns_everything_a_reformatted_one_nothing(
    setup: tuple[Path, str, RunState],
) -> None:
    cohort, store, state = setup
    task = _task(cohort, store)
    run_trial(task)
    spec = Path(task.spec_path)
    spec.write_text("# a comment changes no value\n" + spec.read_text())
    assert assess(task, state).status == "done"
    with LabelStore(store) as st:
        before = {r.key: r.value_mpa for r in st.query()}
    write_trial_spec(spec, "r01", "t1", p_mpa=0.2)
    a = assess(task, state)
    assert (a.status, a.step, a.reason) == ("stale", "compile", "spec changed")
    out = run_trial(task)
    assert out.steps_run == ("compile", "solve", "labels")
    with LabelStore(store) as st:
        after = {r.key: r.value_mpa for r in st.query()}
        assert len(st.query()) == 16 and st.describe()["solves"] == 1  # replaced, not added
    key = ("r01", "t1", "press", "inclusion", "mean", "sfepy")
    assert after[key] == pytest.approx(before[key] * 0.2 / 0.1, rel=1e-9)  # linear elasticity


def test_a_new_backend_version_resolves_and_same_result_keeps_labels(
    setup: tuple[Path, str, RunState], monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort, store, state = setup
    task = _task(cohort, store)
    run_trial(task)
    real = steps_mod.backend_version("sfepy")
    monkeypatch.setattr(steps_mod, "backend_version", lambda name, exe=None: "99.0")
    a = assess(task, state)
    assert (a.status, a.step, a.reason) == ("stale", "solve", f"backend_version {real} -> 99.0")
    out = run_trial(task)
    # the solve ran again and gave the same result (same solve id): the labels step stays done
    assert out.steps_run == ("solve",)
    assert assess(task, state).status == "done"


def test_a_new_profile_resolves_and_relabels(setup: tuple[Path, str, RunState]) -> None:
    cohort, store, state = setup
    run_trial(_task(cohort, store))
    with LabelStore(store) as st:
        before = {r.key: r.value_mpa for r in st.query()}
    amg = options_for("sfepy", linear_solver="amg", rtol=1e-10)
    task = _task(cohort, store, amg)
    a = assess(task, state)
    assert (a.status, a.step, a.reason) == ("stale", "solve", "profile changed")
    assert run_trial(task).steps_run == ("solve", "labels")
    with LabelStore(store) as st:
        after = {r.key: r.value_mpa for r in st.query()}
    assert after.keys() == before.keys()
    for k, v in before.items():
        assert after[k] == pytest.approx(v, rel=1e-6)


def test_missing_outputs_are_remade(setup: tuple[Path, str, RunState]) -> None:
    cohort, store, state = setup
    task = _task(cohort, store)
    run_trial(task)
    results = Path(task.trial_dir) / "results.sfepy.npz"
    results.unlink()
    leftover = Path(task.trial_dir) / ".arrays.npz.x1y2.tmp"  # what a kill -9 mid-write leaves
    leftover.write_bytes(b"half")
    a = assess(task, state)
    assert (a.status, a.step, a.reason) == ("stale", "solve", "outputs are missing")
    assert run_trial(task).steps_run == ("solve",)
    assert results.is_file() and not leftover.exists()
    results.write_bytes(b"not an npz")  # corrupted: found by the worker's thorough check
    assert run_trial(task).steps_run == ("solve",)


def test_a_failing_step_is_recorded_with_its_reason(setup: tuple[Path, str, RunState]) -> None:
    cohort, store, state = setup
    task = _task(cohort, store)
    spec = Path(task.spec_path)
    spec.write_text(spec.read_text().replace("zmax", "no_such_face"))
    out = run_trial(task)
    assert out.status == "failed" and out.failed_step == "compile"
    assert "no_such_face" in out.reason and "\n" not in out.reason
    rec = state.get("r01", "t1", "sfepy", "compile")
    assert rec is not None and rec.status == "failed" and rec.reason == out.reason
    a = assess(task, state)
    assert (a.status, a.step, a.reason) == ("failed", "compile", out.reason)
    assert "Traceback" in Path(out.log).read_text()
    with LabelStore(store) as st:
        assert st.query() == []


def test_vtu_option_writes_a_pvd_with_the_phases(setup: tuple[Path, str, RunState]) -> None:
    import xml.etree.ElementTree as ET

    cohort, store, _ = setup
    _, trials = load_cohort(cohort)
    task = make_tasks(
        trials[:1], cohort / "runs", "sfepy", default_profile("sfepy"), solve_steps(),
        store_url=store, state_dir=None, vtu=True, capture_fds=False, threads=1,
    )[0]  # fmt: skip
    assert run_trial(task).status == "done"
    pvd = Path(task.trial_dir) / "sfepy.pvd"
    sets = ET.parse(pvd).getroot().findall("./Collection/DataSet")
    assert len(sets) == 2 and all((pvd.parent / str(d.get("file"))).is_file() for d in sets)
