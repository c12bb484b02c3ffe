"""``footdt train | evaluate | report | tune``: learn stress from IMU windows, honestly.

The lead registers these plain functions at the top level with ``register(app)``; ``app`` is also
a stand-alone typer app with the same commands (for tests).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import typer

from footdt.cli.common import console, err_console, handle_errors, print_json
from footdt.cli.quiet import import_tensorflow
from footdt.errors import FootdtError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

STORE_HELP = "Label store: a SQLite file path or a SQLAlchemy URL."
StoreOpt = typer.Option("labels.db", "--store", "-s", envvar="FOOTDT_STORE", help=STORE_HELP)
CohortOpt = typer.Option(
    ..., "--cohort", "-c", help="Cohort directory (manifest.json + IMU windows)."
)
JsonOpt = typer.Option(False, "--json", help="Print JSON (stable keys) instead of tables.")
PREDICTORS = ("model", "body_mass", "ridge", "mean")


def _experiment(path: Path) -> Any:
    from footdt.spec.loader import load_spec

    spec = load_spec(path).spec
    if spec.kind != "experiment":
        raise FootdtError(
            f"{path}: kind is {spec.kind!r}; footdt train/tune need an experiment spec"
        )
    return spec


def _without_password(url: str) -> str:
    """A store path or URL safe to record in run.json (passwords masked)."""
    if "://" not in url:
        return url
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _progress() -> Any:
    """The progress bar used by training and tuning: description, bar, n/N, elapsed time."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )


class _Live:
    """Progress bars plus a live table of finished folds (rich), fed by ``cv`` events."""

    def __init__(self, as_json: bool) -> None:
        from rich.live import Live

        self.progress = _progress()
        self.rows: list[list[str]] = []
        self.fold_task: Any = None
        self.trial_task: Any = None
        self.block_task: Any = None
        self.live = Live(
            self._render(), console=err_console if as_json else console, refresh_per_second=4
        )

    def _render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        table = Table(title="held-out RMSE (MPa, mean over targets)", title_justify="left")
        for name in ("fold", "held out", *PREDICTORS, "trials (pruned)", "s"):
            table.add_column(name, justify="left" if name == "held out" else "right")
        for r in self.rows[-15:]:
            table.add_row(*r)
        return Group(self.progress, table)

    def __call__(self, kind: str, info: dict[str, Any]) -> None:
        if kind == "start":
            if info.get("n_blocks"):
                self.block_task = self.progress.add_task(
                    "tuning blocks (each on the runners outside it)", total=info["n_blocks"]
                )
            self.fold_task = self.progress.add_task(
                f"LOSO {info['architecture']} (DA: {info['domain_adaptation']})",
                total=info["n_folds"],
            )
        elif kind == "block_done":
            if self.trial_task is not None:
                self.progress.remove_task(self.trial_task)
                self.trial_task = None
            self.progress.advance(self.block_task)
        elif kind == "fold_start":
            if self.trial_task is not None:
                self.progress.remove_task(self.trial_task)
                self.trial_task = None
        elif kind == "trial":
            if self.trial_task is None:
                self.trial_task = self.progress.add_task(
                    f"  tuning {info['fold']}"
                    if isinstance(info["fold"], str)
                    else f"  tuning fold {info['fold']}",
                    total=None,
                )
            self.progress.advance(self.trial_task)
        elif kind == "fold_done":
            tun = info.get("tuning")
            trials = f"{tun['n_complete'] + tun['n_pruned']} ({tun['n_pruned']})" if tun else "-"
            rmse = info["rmse"]
            self.rows.append([str(info["fold"]), info["held_out"],
                              *(f"{rmse.get(p, float('nan')):.3f}" for p in PREDICTORS), trials,
                              f"{info['seconds']:.1f}"])  # fmt: skip
            self.progress.advance(self.fold_task)
        self.live.update(self._render())


class _TrialTable:
    """A progress bar over the trials and a live table of the latest ones and the best so far."""

    def __init__(self, title: str, total: int, as_json: bool) -> None:
        from rich.live import Live

        self.progress = _progress()
        self.task = self.progress.add_task(title, total=total)
        self.rows: list[dict[str, Any]] = []
        self.live = Live(
            self._render(), console=err_console if as_json else console, refresh_per_second=4
        )

    def _render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        table = Table(title="trials (validation MSE of standardised targets)", title_justify="left")
        for name in ("trial", "state", "value", "epochs", "params"):
            table.add_column(name, justify="left" if name in ("state", "params") else "right")
        done = [r for r in self.rows if r["state"] == "COMPLETE"]
        best = min(done, key=lambda r: r["value"])["number"] if done else None
        for r in self.rows[-12:]:
            value = "" if r["value"] is None else f"{r['value']:.4g}"
            params = ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in r["params"].items()
            )
            table.add_row(str(r["number"]), r["state"].lower(), value, str(r["epochs_run"]), params,
                          style="bold green" if r["number"] == best else None)  # fmt: skip
        return Group(self.progress, table)

    def __call__(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.progress.update(self.task, completed=row["number"] + 1)
        self.live.update(self._render())


@handle_errors
def train(
    experiment: Path = typer.Argument(..., help="Experiment spec (YAML/TOML)."),
    store: str = StoreOpt,
    cohort: Path = CohortOpt,
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create."),
    storage: str | None = typer.Option(
        None, "--storage", help="Optuna storage URL (sqlite:///optuna.db): nested tuning resumable."
    ),
    max_folds: int | None = typer.Option(
        None, "--max-folds", help="Run only the first N folds (a quick check)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing run directory."),
    workers: int = typer.Option(
        0, "--workers", "-w",
        help="Folds trained side by side in this many processes (0: one per core; a tuned run uses one).",
    ),
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Nested leave-one-subject-out training with baselines; writes a run directory."""
    from footdt.learn.cv import RunOptions, run_loso
    from footdt.learn.dataset import load_dataset

    spec = _experiment(experiment)
    if (out / "run.json").exists():
        if not force:
            raise FootdtError(
                f"{out} already holds a run; pass --force to replace it or choose another --out"
            )
        shutil.rmtree(out)
    ds = load_dataset(spec, store, cohort)
    import_tensorflow()
    live = _Live(as_json)
    opts = RunOptions(storage=storage, max_folds=max_folds, source_spec=experiment,
                      store=_without_password(store), cohort=str(cohort), workers=workers)  # fmt: skip
    with live.live:
        run = run_loso(spec, ds, out, options=opts, on_event=live)
    (err_console if as_json else console).print()
    if as_json:
        print_json(run)
    else:
        console.print(f"run written to {out} ({run['seconds']:.0f} s); next: footdt evaluate {out}")


@handle_errors
def evaluate(
    run_dir: Path = typer.Argument(..., help="Run directory written by footdt train."),
    as_json: bool = JsonOpt,
) -> None:
    """Table-1-style metrics with the baselines side by side, RFS/NRFS statistics."""
    from rich.table import Table

    from footdt.evaluate.report import table1_rows
    from footdt.evaluate.run import evaluate_run

    summary = evaluate_run(run_dir)
    if as_json:
        print_json(summary)
        return
    import pandas as pd

    head, body = table1_rows(pd.read_csv(run_dir / "evaluation" / "table1.csv"))
    table = Table(title=f"{summary['experiment']}: {summary['architecture']}, domain adaptation "
                        f"{summary['domain_adaptation']}, {summary['n_subjects']} subjects", title_justify="left")  # fmt: skip
    for h in head:
        table.add_column(
            h, justify="left" if h in ("target", "best") else "right", no_wrap=h == "target"
        )
    for r in body:
        table.add_row(*r, style="red" if "NO" in r[-2] else None)
    console.print(table)
    w, k = summary["model_beats"], summary["n_targets"]
    console.print(f"model beats body mass on {w['body_mass']}/{k}, ridge on {w['ridge']}/{k}, "
                  f"training mean on {w['mean']}/{k} targets; files in {run_dir / 'evaluation'}")  # fmt: skip
    if summary["partial"]:
        err_console.print("[yellow]warning:[/] partial run: not every subject was held out")


@handle_errors
def report(
    run_dir: Path = typer.Argument(..., help="Run directory written by footdt train."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="HTML file to write."),
) -> None:
    """One HTML page: baselines first, Table 1, figures (PNG embedded), group statistics."""
    from footdt.evaluate.report import html_report

    path = html_report(run_dir, out)
    console.print(f"report written to {path}")


@handle_errors
def tune(
    experiment: Path = typer.Argument(..., help="Experiment spec with a model.search_space."),
    store: str = StoreOpt,
    cohort: Path = CohortOpt,
    trials: int = typer.Option(
        20, "--trials", "-n", min=1, help="Total trials the study should hold."
    ),
    storage: str | None = typer.Option(
        None, "--storage", help="Optuna storage URL; re-running resumes."
    ),
    held_out: str | None = typer.Option(
        None,
        "--held-out",
        help="Tune without this subject (the study `footdt train --storage` reuses for its fold).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Optuna study (TPE + median pruning) on the cohort's subjects, resumable with --storage."""
    from footdt.learn.cv import study_name
    from footdt.learn.dataset import load_dataset
    from footdt.learn.runtime import setup_tensorflow
    from footdt.learn.tune import tune as run_tune

    spec = _experiment(experiment)
    ds = load_dataset(spec, store, cohort)
    if held_out is not None and held_out not in ds.subjects:
        raise FootdtError(f"--held-out {held_out}: no such subject in {cohort}")
    subjects = [s for s in ds.subjects if s != held_out]
    scope = "all" if held_out is None else f"loso-{held_out}"
    if held_out is None:
        err_console.print("[yellow]note:[/] tuning on every subject: use the result for a deployment "
                          "model, never to evaluate on these subjects (footdt train tunes per fold)")  # fmt: skip
    import_tensorflow()
    setup_tensorflow(deterministic=spec.validation.deterministic)
    live = _TrialTable(f"tuning {spec.model.architecture} ({scope})", trials, as_json)
    with live.live:
        res = run_tune(spec, ds, subjects, n_trials=trials, study_name=study_name(spec, scope),
                       storage=storage, on_trial=live)  # fmt: skip
    (err_console if as_json else console).print()
    out = {"study": res.study_name, "storage": storage, "scope": scope, "subjects": subjects,
           "n_trials": len(res.trials), "n_complete": res.n_complete, "n_pruned": res.n_pruned,
           "n_failed": res.n_failed, "best_value": res.best_value, "best_params": res.best_params}  # fmt: skip
    if as_json:
        print_json(out)
    else:
        console.print(f"study {res.study_name}: {len(res.trials)} trials ({res.n_complete} complete, "
                      f"{res.n_pruned} pruned, {res.n_failed} failed); best {res.best_value} with {res.best_params}")  # fmt: skip


def register(root: typer.Typer) -> None:
    """Register train, evaluate, report and tune as top-level commands of ``root``."""
    root.command("train")(train)
    root.command("evaluate")(evaluate)
    root.command("report")(report)
    root.command("tune")(tune)


register(app)
