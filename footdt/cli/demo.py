"""``footdt demo``: the whole digital twin on a small synthetic cohort (``footdt.demo``).

    footdt demo [--runners 40] [--size 5] [--out build/demo] [--workers N] [--json]

Closed-form checks of the solvers, a synthetic cohort, FE models of every trial (SfePy,
resumable), labels, leave-one-subject-out learning with baselines, evaluation, ``footdt
predict`` on a runner the run never saw (and that runner's own FE solve), and one HTML report.
A second run in the same ``--out`` skips what is up to date. ``--json`` prints the summary
(stable keys, also in ``OUT/summary.json``); progress goes to stderr then.
"""

from __future__ import annotations

from pathlib import Path

import typer

from footdt.cli.common import console, err_console, handle_errors, print_json
from footdt.demo.options import DEFAULT_RUNNERS


@handle_errors
def demo(
    runners: int = typer.Option(DEFAULT_RUNNERS, "--runners", help="Synthetic runners in the cohort (the paper: 50)."),
    size: float = typer.Option(5.0, "--size", help="Element size (mm) of every foot model (the paper: 3)."),
    out: Path = typer.Option(Path("build/demo"), "--out", "-o", help="Output directory (re-runs skip what is done)."),
    workers: int = typer.Option(0, "--workers", "-w", help="Parallel FE solves and training folds (default: every core)."),
    trials: int | None = typer.Option(None, "--trials", help="Trials per runner (default: the cohort spec's, 2)."),
    strides: int | None = typer.Option(None, "--strides", help="Strides per recording (default: the cohort spec's)."),
    epochs: int | None = typer.Option(None, "--epochs", help="Training epochs (default: specs/experiments/demo.yaml's)."),
    seed: int | None = typer.Option(None, "--seed", help="Cohort seed (default: the cohort spec's)."),
    foot_model: str | None = typer.Option(None, "--foot-model", help="personalised | template (default: the cohort spec's)."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip the closed-form solver checks."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (stable keys)."),
) -> None:  # fmt: skip
    """The digital twin end to end: cohort -> FE -> labels -> learning -> report -> predict."""
    from footdt.demo.options import DemoOptions
    from footdt.demo.run import N_STAGES, run_demo
    from footdt.demo.summary import print_summary
    from footdt.demo.ui import DemoUi

    opts = DemoOptions(out=out, runners=runners, size=size, trials=trials, strides=strides,
                       epochs=epochs, seed=seed, foot_model=foot_model, workers=workers,
                       verify=not no_verify)  # fmt: skip
    opts.check()
    from footdt.cli.quiet import import_tensorflow

    import_tensorflow()
    shown = err_console if as_json else console
    summary = run_demo(opts, DemoUi(shown, N_STAGES if opts.verify else N_STAGES - 1))
    if as_json:
        print_json(summary)
    else:
        print_summary(console, summary)
