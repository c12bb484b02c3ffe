"""``run_cohort``: every trial of a cohort through its steps, in parallel, resumable.

Order of work: read and check the cohort, the backend, the profile and the executor (nothing is
written if any is wrong); open the store (creating it), lock the run directory; skip the trials
that are up to date; run the others on a local process pool or a Dask cluster; record why any
trial failed (a dead worker included) and go on with the others.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from footdt.errors import BackendUnavailable, FootdtError, SpecError
from footdt.pipeline.plan import load_cohort, make_tasks, solver_threads, store_location
from footdt.pipeline.pool import LocalPool, WorkerDied, start_fork_server
from footdt.pipeline.state import RunState
from footdt.pipeline.steps import Step, TrialTask, backend_version, solve_steps
from footdt.pipeline.trial import TrialOutcome, assess
from footdt.spec.profile import SolverProfile, default_profile, load_profile

Executor = Literal["local", "dask"]
LOCK_FILE = ".footdt-run.lock"


class Reporter(Protocol):
    def begin(self, total: int, skipped: int) -> None: ...
    def started(self, task: TrialTask, worker: int) -> None: ...
    def finished(self, outcome: TrialOutcome) -> None: ...
    def end(self) -> None: ...


class _Silent:
    def begin(self, total: int, skipped: int) -> None: ...
    def started(self, task: TrialTask, worker: int) -> None: ...
    def finished(self, outcome: TrialOutcome) -> None: ...
    def end(self) -> None: ...


@dataclass(frozen=True)
class RunOptions:
    backend: str = "sfepy"
    store: str | None = None  # required unless the backend writes decks (abaqus)
    out: Path | None = None  # default COHORT/runs/BACKEND
    workers: int = 1
    executor: Executor = "local"
    scheduler: str | None = None  # dask only; None = a LocalCluster of `workers` processes
    profile: Path | SolverProfile | None = None
    vtu: bool = False


@dataclass
class RunReport:
    cohort: str
    backend: str
    store: str | None
    out: str
    workers: int
    executor: str
    threads: int
    outcomes: list[TrialOutcome] = field(default_factory=list)
    wall_time_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        c = {"done": 0, "up_to_date": 0, "failed": 0}
        for o in self.outcomes:
            c[o.status] += 1
        return c

    def to_dict(self) -> dict[str, Any]:
        return {
            "cohort": self.cohort, "backend": self.backend, "store": self.store, "out": self.out,
            "executor": self.executor, "workers": self.workers, "threads_per_worker": self.threads,
            "wall_time_s": round(self.wall_time_s, 3), "counts": self.counts(),
            "trials": [
                {"subject": o.subject, "trial": o.trial, "status": o.status,
                 "steps_run": list(o.steps_run), "failed_step": o.failed_step, "reason": o.reason,
                 "wall_time_s": o.wall_time_s, "peak_rss_mb": o.peak_rss_mb, "log": o.log}
                for o in self.outcomes
            ],
            **self.extra,
        }  # fmt: skip


def resolve_profile(backend: str, profile: Path | SolverProfile | None) -> SolverProfile:
    """The backend's options: its defaults, or the profile checked to be for it."""
    from footdt.backends import get_backend

    if profile is None:
        return default_profile(backend)
    prof = load_profile(profile) if isinstance(profile, Path) else profile
    try:
        return get_backend(backend).resolve_options(prof)
    except SpecError as exc:
        raise SpecError(f"{profile}: {exc}") from exc


def run_cohort(
    cohort_dir: str | Path,
    options: RunOptions,
    *,
    steps: tuple[Step, ...] | None = None,
    reporter: Reporter | None = None,
) -> RunReport:
    """Run every trial of ``cohort_dir`` that is not up to date; see the module docstring."""
    from footdt.backends import get_backend

    start = time.perf_counter()
    reporter = reporter or _Silent()
    cohort = Path(cohort_dir)
    _, trials = load_cohort(cohort)
    backend = get_backend(options.backend)
    profile = resolve_profile(options.backend, options.profile)
    decks = options.backend == "abaqus"
    if options.workers < 1:
        raise FootdtError(f"--workers must be at least 1, not {options.workers}")
    if options.executor not in ("local", "dask"):
        raise FootdtError(f"unknown executor {options.executor!r}; use local or dask")
    if decks:
        from footdt.pipeline.abaqus_jobs import deck_steps

        steps = steps or deck_steps()
    else:
        avail = backend.availability()
        if not avail:
            raise BackendUnavailable(f"backend '{backend.name}' is not available: {avail.reason}")
        if options.store is None:
            raise FootdtError(f"--backend {options.backend} writes labels: pass --store")
        backend_version(options.backend, profile.executable)  # may fail: before any write
        steps = steps or solve_steps()
    out = Path(options.out or cohort / "runs" / options.backend).resolve()
    threads = solver_threads(profile, options.workers)
    with contextlib.ExitStack() as stack:
        executor: Any = None
        if options.executor == "dask":
            from footdt.pipeline.dask_exec import DaskExecutor

            executor = stack.enter_context(DaskExecutor(options.scheduler, options.workers))
            threads = profile.threads if options.scheduler else threads
        # -------- everything above only reads; from here on the store and run directory exist
        store_url = None if decks or options.store is None else store_location(options.store)
        store: Any = None
        if store_url is not None:
            from footdt.labels.store import LabelStore

            store = stack.enter_context(LabelStore(store_url))
        out.mkdir(parents=True, exist_ok=True)
        stack.enter_context(_locked(out))
        if executor is None:
            start_fork_server(options.backend)
        state = RunState.in_directory(out) if decks else RunState.in_store(store)
        tasks = make_tasks(
            trials, out, options.backend, profile, steps, store_url=store_url,
            state_dir=str(out) if decks else None, vtu=options.vtu,
            capture_fds=options.executor == "local", threads=threads,
        )  # fmt: skip
        report = RunReport(str(cohort), options.backend, store_url, str(out), options.workers,
                           options.executor, threads)  # fmt: skip
        pending = _plan(tasks, state, store, report)
        reporter.begin(len(tasks), len(tasks) - len(pending))
        try:
            if pending:
                if executor is None:
                    executor = LocalPool(options.workers, threads, options.backend)
                for item in executor.run(pending, reporter.started):
                    outcome = _settle(item, state)
                    report.outcomes.append(outcome)
                    reporter.finished(outcome)
        finally:
            reporter.end()
        order = {(t.subject, t.trial): i for i, t in enumerate(tasks)}
        report.outcomes.sort(key=lambda o: order[(o.subject, o.trial)])
        if decks:
            from footdt.pipeline.abaqus_jobs import write_job_files

            report.extra["jobs"] = write_job_files(
                out, tasks, report.outcomes, state, options.store
            )
    report.wall_time_s = time.perf_counter() - start
    return report


def _plan(
    tasks: list[TrialTask], state: RunState, store: Any, report: RunReport
) -> list[TrialTask]:
    """Record the up-to-date trials in ``report``; return the others."""
    from footdt.pipeline.steps import StepContext

    pending = []
    for task in tasks:
        a = assess(task, state, StepContext(task, log=lambda _m: None, store=store))
        if a.status == "done":
            report.outcomes.append(TrialOutcome(task.subject, task.trial, "up_to_date",
                                                log=task.log_path))  # fmt: skip
        else:
            pending.append(task)
    return pending


def _settle(item: TrialOutcome | WorkerDied, state: RunState) -> TrialOutcome:
    if isinstance(item, TrialOutcome):
        return item
    t = item.task
    steps = state.fail_running(t.subject, t.trial, t.backend, item.reason)
    return TrialOutcome(t.subject, t.trial, "failed", failed_step=",".join(steps) or "?",
                        reason=item.reason, log=t.log_path)  # fmt: skip


def _locked(out: Path) -> contextlib.AbstractContextManager[None]:
    """One run per run directory at a time."""
    from footdt.fileio import exclusive_lock

    busy = f"{out} is in use by another `footdt run`; wait for it or pass another --out"
    return exclusive_lock(out / LOCK_FILE, busy)
