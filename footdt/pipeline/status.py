"""``cohort_status``: done / stale / failed / pending for every trial of a cohort, with reasons.

Read-only: it opens the store (or the deck directory's state file) without creating anything.
A trial is *done* when every step's record is done under the key the step would have now and its
outputs exist; *stale* when a key changed (the reason says what: spec, backend version, profile);
*failed* with the recorded reason; *pending* when a step never ran or was interrupted.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from footdt.errors import FootdtError
from footdt.pipeline.plan import load_cohort, make_tasks
from footdt.pipeline.state import RunState
from footdt.pipeline.steps import StepContext, solve_steps
from footdt.pipeline.trial import Assessment, assess
from footdt.spec.profile import SolverProfile, default_profile

STATUS_FIELDS = ("backend", "subject", "trial", "status", "step", "reason", "updated_at")


def cohort_status(
    cohort_dir: str | Path,
    *,
    store: str | None = None,
    backend: str | None = None,
    out: Path | None = None,
    profile: SolverProfile | None = None,
) -> list[dict[str, Any]]:
    """One row per (backend, trial) with the keys of ``STATUS_FIELDS``."""
    cohort = Path(cohort_dir)
    _, trials = load_cohort(cohort)
    if backend == "abaqus":
        return _abaqus_status(cohort, trials, store, out)
    if store is None:
        raise FootdtError("pass --store (the label store the run wrote to)")
    from footdt.labels.store import LabelStore

    with LabelStore(store, create=False) as st:
        state = RunState.in_store(st, create=False)
        backends = [backend] if backend else [b for b in state.backends() if b != "abaqus"]
        rows = []
        for name in backends or ["sfepy"]:
            prof = profile if profile and profile.backend == name else default_profile(name)
            tasks = make_tasks(trials, out or cohort / "runs" / name, name, prof, solve_steps(),
                               store_url=store, state_dir=None, vtu=False, capture_fds=False,
                               threads=0)  # fmt: skip
            rows += [_row(t, state, st, out is None) for t in tasks]
    return rows


def _row(task: Any, state: RunState, store: Any, recorded_dir: bool) -> dict[str, Any]:
    if recorded_dir:  # the run may have used --out: look where its compile step wrote
        rec = state.get(task.subject, task.trial, task.backend, "compile")
        if rec is not None and rec.outputs.get("dir"):
            task = dataclasses.replace(task, trial_dir=str(rec.outputs["dir"]))
    try:
        a = assess(task, state, StepContext(task, log=lambda _m: None, store=store))
    except FootdtError as exc:  # e.g. the backend is not installed here, so its version is unknown
        a = Assessment("pending", "", f"cannot check: {exc}")
    updated = ""
    if a.record is not None:
        updated = a.record.finished_at or a.record.started_at
    return {"backend": task.backend, "subject": task.subject, "trial": task.trial,
            "status": a.status, "step": a.step, "reason": a.reason, "updated_at": updated}  # fmt: skip


def _abaqus_status(
    cohort: Path, trials: list[Any], store: str | None, out: Path | None
) -> list[dict[str, Any]]:
    from footdt.pipeline.abaqus_jobs import deck_steps

    out = out or cohort / "runs" / "abaqus"
    state = RunState.in_directory(out, create=False)
    tasks = make_tasks(trials, out, "abaqus", default_profile("abaqus"), deck_steps(),
                       store_url=None, state_dir=str(out), vtu=False, capture_fds=False,
                       threads=0)  # fmt: skip
    labels: Any = None
    if store is not None:
        from footdt.labels.store import LabelStore

        labels = LabelStore(store, create=False)
    try:
        rows = []
        for t in tasks:
            row = _row(t, state, None, False)
            if row["status"] == "done":
                row["reason"] = _imported(t, state, labels)
            rows.append(row)
    finally:
        state.close()
        if labels is not None:
            labels.close()
    return rows


def _imported(task: Any, state: RunState, labels: Any) -> str:
    if labels is None:
        return "deck ready (pass --store to see whether its labels were imported)"
    rec = state.get(task.subject, task.trial, "abaqus", "compile")
    model = rec.outputs.get("model") if rec else None
    got = labels.query(subject=task.subject, trial=task.trial, backend="abaqus")
    if got and all(r.model_hash == model for r in got):
        return "deck ready; labels imported"
    if got:
        return "deck ready; imported labels are of an older model: re-run the job and import"
    return "deck ready; run the job, then import_results.sh"
