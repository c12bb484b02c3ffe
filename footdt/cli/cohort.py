"""``footdt cohort generate | show``: synthetic cohorts and what a cohort directory holds.

    footdt cohort generate specs/cohorts/demo.yaml --out cohort/ [--size 6]
    footdt cohort show cohort/ [--json] [--plot cohort.png]

``--json`` keys are stable (``footdt.cohort.show.cohort_summary``): ``cohort, seed, description,
n_subjects, n_rearfoot, n_non_rearfoot, n_trials, subjects``; each subject ``id, group,
body_mass_kg, height_m, foot_length_mm, trials``; each trial ``id, speed_m_s, imu, spec,
pressure, windows_shape``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from footdt.cli.common import console, handle_errors, print_json, print_plain

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
JsonOpt = typer.Option(False, "--json", help="Print JSON (stable keys) instead of a table.")


def _table(summary: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(
        title=f"{summary['cohort']}: {summary['n_subjects']} runners ({summary['n_rearfoot']} "
        f"rearfoot, {summary['n_non_rearfoot']} non-rearfoot), {summary['n_trials']} trials"
    )
    for name in ("subject", "group", "mass (kg)", "height (m)", "foot (mm)", "trials", "speed (m/s)",
                 "IMU windows"):  # fmt: skip
        table.add_column(
            name, justify="left" if name in ("subject", "group", "trials") else "right"
        )
    for s in summary["subjects"]:
        speeds = [t["speed_m_s"] for t in s["trials"] if t["speed_m_s"] is not None]
        shapes = sorted({tuple(t["windows_shape"]) for t in s["trials"]})
        table.add_row(
            s["id"], s["group"], f"{s['body_mass_kg']:.1f}", f"{s['height_m']:.2f}",
            "" if s["foot_length_mm"] is None else f"{s['foot_length_mm']:.0f}",
            ", ".join(t["id"] for t in s["trials"]),
            f"{min(speeds):.2f}-{max(speeds):.2f}" if speeds else "",
            "; ".join("x".join(map(str, sh)) for sh in shapes),
        )  # fmt: skip
    console.print(table)


@app.command("generate")
@handle_errors
def generate_cmd(
    spec: Path = typer.Argument(..., help="Cohort spec (YAML/TOML), e.g. specs/cohorts/demo.yaml."),
    out: Path = typer.Option(..., "--out", "-o", help="Cohort directory to write."),
    template: Path | None = typer.Option(
        None, "--template", help="Subject spec template (default: the cohort spec's `template:`)."
    ),
    size: float | None = typer.Option(
        None, "--size", help="Element size (mm) of every trial's foot model (default: the "
        "template's; 5-6 for a quick pass, the paper: 3).",
    ),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty directory."),
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Generate N synthetic runners x trials: subject specs, IMU windows, pressure and GRF."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from footdt.cohort.generate import generate
    from footdt.cohort.show import cohort_summary
    from footdt.cohort.spec import check_size, load_cohort_spec

    if size is not None:
        check_size(size)
    cs = load_cohort_spec(spec)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=as_json, disable=as_json) as bar:
        task = bar.add_task(f"cohort {cs.id}", total=cs.n_runners * cs.trials)

        def step(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, description=f"cohort {cs.id}: {label}")

        manifest = generate(cs, out, template, overwrite=force, progress=step, size=size)
    summary = cohort_summary(out, manifest)
    if as_json:
        print_json(summary)
        return
    _table(summary)
    print_plain(f"wrote {out / 'manifest.json'} and {out / 'generation.json'}")


@app.command("show")
@handle_errors
def show_cmd(
    cohort: Path = typer.Argument(..., help="Cohort directory (with manifest.json)."),
    plot: Path | None = typer.Option(
        None, "--plot", help="Write a PNG: anthropometry, GRF and |a| windows by group."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """List the runners of a cohort: group, body mass, trials and IMU window shapes."""
    from footdt.cohort.manifest import load_manifest
    from footdt.cohort.show import cohort_figure, cohort_summary

    manifest = load_manifest(cohort)
    summary = cohort_summary(cohort, manifest)
    if plot is not None:
        cohort_figure(cohort, plot, manifest)
    if as_json:
        print_json(summary)
        return
    _table(summary)
    if plot is not None:
        print_plain(f"wrote {plot}")
