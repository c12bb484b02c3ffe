"""``footdt run`` and ``footdt status``: a whole cohort through compile -> solve -> labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from footdt.cli.common import console, err_console, fail, handle_errors, print_json

STORE_HELP = "Label store: SQLite path or SQLAlchemy URL (sqlite:///x.db, postgresql://...)."


def eta_text(total: int, completed: int, durations: list[float], running: list[float],
             workers: int) -> str:  # fmt: skip
    """Time left (s) as text: the mean time of the trials solved in this run so far, for the
    trials not yet finished, spread over the workers, less what the running ones have done."""
    left = total - completed
    if left <= 0:
        return "ETA 0 s"
    if not durations:
        return "ETA after the first trial"
    mean = sum(durations) / len(durations)
    queued = left - len(running)
    busy = sum(max(mean - t, 0.0) for t in running)
    seconds = (busy + max(queued, 0) * mean) / max(workers, 1)
    minutes, sec = divmod(round(seconds), 60)
    return f"ETA {minutes} min {sec:02d} s" if minutes else f"ETA {sec} s"


#: Bytes read from the end of a subject's log to find a trial's current step.
LOG_TAIL = 1 << 16


def current_step(log_path: str | Path, trial: str) -> str | None:
    """The step a trial is running now, from its subject's log (``footdt.pipeline.trial``
    writes ``[TRIAL] STEP: running`` when a step starts and ``done`` or ``FAILED`` when it ends);
    None when none is running or the log cannot be read."""
    import re

    try:
        with open(log_path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(fh.tell() - LOG_TAIL, 0))
            tail = fh.read().decode(errors="replace")
    except OSError:
        return None
    found = re.findall(rf"\[{re.escape(trial)}\] (\w+): (running|done|FAILED)", tail)
    return found[-1][0] if found and found[-1][1] == "running" else None


def eta_reporter(console: Any, label: str, workers: int) -> Any:
    """The pipeline's reporter with an ETA and the trials being worked on now."""
    import time

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    from footdt.pipeline.display import RichReporter

    class _Eta(RichReporter):
        def __init__(self) -> None:
            super().__init__(console, label)
            self.workers = max(workers, 1)
            self.starts: dict[str, float] = {}
            self.tasks: dict[str, Any] = {}
            self.durations: list[float] = []
            self.cache: tuple[float, str] = (0.0, "")
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), _Column(self, "eta"), TextColumn("{task.fields[detail]}"),
                _Column(self, "now"), console=console,
            )  # fmt: skip

        def eta(self, total: int, completed: int) -> str:
            now = time.monotonic()
            running = [now - t for t in self.starts.values()]
            return eta_text(total, completed, self.durations, running, self.workers)

        def now_text(self) -> str:
            """``now: s01/1 solve, s02/1 compile``: each running trial and its current step
            (from its log, read at most once a second)."""
            t = time.monotonic()
            if t - self.cache[0] < 1.0:
                return self.cache[1]
            shown = []
            for key in list(self.tasks)[:3]:
                task = self.tasks[key]
                step = current_step(task.log_path, task.trial) if task.log_path else None
                shown.append(f"{key} {step or 'starting'}")
            more = len(self.tasks) - len(shown)
            text = ("now: " + ", ".join(shown) + (f" +{more}" if more > 0 else "")) if shown else ""
            self.cache = (t, text)
            return text

        def started(self, task: Any, worker: int) -> None:
            key = f"{task.subject}/{task.trial}"
            self.starts[key] = time.monotonic()
            self.tasks[key] = task
            self.cache = (0.0, "")
            super().started(task, worker)

        def finished(self, outcome: Any) -> None:
            key = f"{outcome.subject}/{outcome.trial}"
            start = self.starts.pop(key, None)
            self.tasks.pop(key, None)
            self.cache = (0.0, "")
            if start is not None and outcome.steps_run and outcome.status == "done":
                self.durations.append(time.monotonic() - start)
            super().finished(outcome)

    class _Column(ProgressColumn):
        def __init__(self, rep: _Eta, what: str) -> None:
            super().__init__()
            self.rep, self.what = rep, what

        def render(self, task: Any) -> Text:
            if self.what == "now":
                return Text(self.rep.now_text())
            return Text(self.rep.eta(int(task.total or 0), int(task.completed)), style="cyan")

    return _Eta()


@handle_errors
def run(
    cohort: Path = typer.Argument(..., help="Cohort directory (with manifest.json)."),
    backend: str = typer.Option(
        "sfepy", "--backend", "-b", help="sfepy | native | calculix | abaqus"
    ),
    store: str | None = typer.Option(
        None,
        "--store",
        "-s",
        envvar="FOOTDT_STORE",
        help=STORE_HELP + " Required unless --backend abaqus (then the import scripts' default).",
    ),
    workers: int = typer.Option(1, "--workers", "-w", help="Parallel worker processes."),
    executor: str = typer.Option("local", "--executor", help="local (process pool) | dask"),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler (tcp://host:8786); default: a local cluster."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Run directory: models, results, logs (default COHORT/runs/BACKEND).",
    ),
    profile: Path | None = typer.Option(
        None, "--profile", help="Solver profile TOML (solvers/*.toml)."
    ),
    vtu: bool = typer.Option(False, "--vtu", help="Also write one VTU per phase per trial."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Run every trial of a cohort through its steps (skipping what is up to date), in parallel.

    sfepy/calculix: compile (mesh) -> solve -> labels into --store. abaqus: compile -> deck, plus
    a job list, a SLURM array script and an import script in --out for a licensed cluster.
    """
    from footdt.pipeline.display import run_table
    from footdt.pipeline.runner import RunOptions, run_cohort

    if executor not in ("local", "dask"):
        raise fail(f"unknown executor {executor!r}; use local or dask")
    if scheduler is not None and executor != "dask":
        raise fail("--scheduler needs --executor dask")
    options = RunOptions(
        backend=backend, store=store, out=out, workers=workers, executor=executor,  # type: ignore[arg-type]
        scheduler=scheduler, profile=profile, vtu=vtu,
    )  # fmt: skip
    reporter = eta_reporter(err_console, f"{backend} x{workers}", workers)
    report = run_cohort(cohort, options, reporter=reporter)
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(run_table(report))
        jobs = report.extra.get("jobs")
        if jobs:
            files = jobs["files"]
            console.print(
                f"{jobs['n_jobs']} Abaqus jobs: {files['jobs']} (run: {files['run']}, SLURM: "
                f"{files['slurm']}); afterwards: sh {files['import']} STORE",
                highlight=False, soft_wrap=True,
            )  # fmt: skip
    failed = report.counts()["failed"]
    if failed:
        raise fail(f"{failed} of {len(report.outcomes)} trials failed; see the reasons above and "
                   f"the logs in {report.out}/logs; re-run the same command to retry them")  # fmt: skip


@handle_errors
def status(
    cohort: Path = typer.Argument(..., help="Cohort directory (with manifest.json)."),
    store: str | None = typer.Option(None, "--store", "-s", envvar="FOOTDT_STORE", help=STORE_HELP),
    backend: str | None = typer.Option(
        None, "--backend", "-b", help="Only this backend (default: every backend that ran)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Run directory, if not the one recorded (abaqus: the decks)."
    ),
    profile: Path | None = typer.Option(
        None, "--profile", help="The solver profile the run used (if not the default)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (stable keys)."),
) -> None:
    """Done / stale / failed / pending for every subject and trial, with reasons."""
    from footdt.pipeline.display import status_table
    from footdt.pipeline.runner import resolve_profile
    from footdt.pipeline.status import cohort_status

    prof = None
    if profile is not None:
        from footdt.spec.profile import load_profile

        prof = load_profile(profile)
        resolve_profile(backend or prof.backend, prof)
    rows = cohort_status(cohort, store=store, backend=backend, out=out, profile=prof)
    if as_json:
        print_json(rows)
    else:
        console.print(status_table(rows, str(cohort)))


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``status`` to the ``footdt`` app."""
    app.command("run")(run)
    app.command("status")(status)


if __name__ == "__main__":  # `python -m footdt.cli.run run|status ...` until app.py registers us
    _app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(_app)
    _app()
