"""``footdt predict``: a trained run applied to a new runner's recording, stride by stride.

    footdt predict runs/paper rec.csv --sensors foot=fx,fy,fz tibia=tx,ty,tz --out pred.csv

Writes one CSV row per stride x target (``CSV_COLUMNS``; MPa, s) and prints, per target, the
median stride prediction, the recording-level prediction with its calibrated interval, the
share of out-of-distribution strides and the bone's damage index. ``--json`` keys are stable
(``footdt.twin.output.summary_payload``). Bad input is one line on stderr, a non-zero exit and no output file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from footdt.cli.common import console, err_console, handle_errors, print_json, print_plain
from footdt.cli.gait import DelimOpt, GapOpt, RateOpt, TimeColOpt, TimeUnitOpt, UnitsOpt
from footdt.errors import FootdtError
from footdt.twin.output import CSV_COLUMNS, plot_prediction, prediction_frame, summary_payload

if TYPE_CHECKING:
    from footdt.twin.predict import Prediction, Twin

__all__ = ["CSV_COLUMNS", "app", "plot_prediction", "predict", "prediction_frame", "register",
           "summary_payload"]  # fmt: skip

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def _group() -> None:
    """Stand-alone app holding ``predict`` (for tests); footdt registers it at the top level."""


def _parse_static(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise FootdtError(f"--static {item!r}: expected name=value, e.g. body_mass=68.5")
    return out


def _print_table(twin: Twin, p: Prediction) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    pay = summary_payload(twin, p)
    pct = round(100 * p.level)
    table = Table(title=f"{p.source}: {len(p.strides)} strides; run {twin.path}, {len(twin.folds)} "
                        f"folds x {len(twin.run['seeds'])} seeds; MPa", title_justify="left", box=box.SIMPLE)  # fmt: skip
    for name in ("target", "median", f"recording [{pct} %]", "OOD", "damage"):
        table.add_column(name, justify="left" if name == "target" else "right", no_wrap=True)
    for r in pay["targets"]:
        lo, hi = r["lower_mpa"], r["upper_mpa"]
        iv = f"[{'-inf' if lo is None else f'{lo:.2f}'}, {'inf' if hi is None else f'{hi:.2f}'}]"
        table.add_row(r["target"], f"{r['median_stride_mpa']:.2f}", f"{r['recording_mpa']:.2f} {iv}",
                      f"{100 * r['ood_fraction']:.0f} %", f"{r['damage_index']:.3g}")  # fmt: skip
    console.print(table)
    i = pay["interval"]
    console.print(
        f"side {pay['side']} ({pay['side_source']}); intervals {i['method']} from "
        f"{i['n_calibration_trials']} held-out trials of {i['n_calibration_subjects']} runners; "
        f"OOD: {pay['ood']['n_flagged']}/{len(p.strides)} strides beyond the training strides' "
        f"{100 * twin.ood.quantile:g}th percentile; damage = sum (sigma/sigma_ref)^{p.damage[0].exponent:g} "
        "in typical-cohort strides (relative index, not a fracture risk)", highlight=False)  # fmt: skip
    static = p.static_ood.get("message")
    if static:
        err_console.print(f"[yellow]warning:[/] {escape(static)}", highlight=False, soft_wrap=True)
    if p.clipped_targets:
        err_console.print(
            f"[yellow]warning:[/] the networks predicted below 0 MPa for {', '.join(p.clipped_targets)} "
            "(von Mises stress is never negative): shown as 0; the input is probably unlike the "
            "training data", highlight=False, soft_wrap=True)  # fmt: skip
    if any(v is None for r in pay["targets"] for v in (r["lower_mpa"], r["upper_mpa"])):
        err_console.print(f"[yellow]warning:[/] too few held-out trials for {pct} % intervals: "
                          "bounds are infinite (lower --level or train on more runners)")  # fmt: skip


JsonOpt = typer.Option(False, "--json", help="Print JSON (stable keys) instead of a table.")


@handle_errors
def predict(
    run_dir: Path = typer.Argument(..., help="Run directory written by footdt train."),
    inputs: list[str] = typer.Argument(..., metavar="RECORDING [SENSOR=COLS]...",
                                       help="The recording (CSV/TSV/C3D), then optionally SENSOR=colx,coly,colz."),
    sensors: list[str] = typer.Option([], "--sensors", "-s",
                                      help="SENSOR=colx,coly,colz (repeatable); default foot_ax.. tibia_az columns."),
    out: Path = typer.Option(..., "--out", "-o", help="CSV to write: one row per stride x target."),
    plot: bool = typer.Option(False, "--plot", help="Also write a PNG next to --out (same name, .png)."),
    side: str | None = typer.Option(None, "--side", help="Leg of the sensors: right or left (default: from the tibia's tilt)."),
    allow_mirrored: bool = typer.Option(False, "--allow-mirrored", help="Predict a leg the run was not trained on, mirrored."),
    resample: bool = typer.Option(False, "--resample", help="Resample to the run's training rate if the rate differs."),
    static: list[str] = typer.Option([], "--static", help="Static input name=value, e.g. body_mass=68.5 (kg)."),
    cohort: Path | None = typer.Option(None, "--cohort", "-c", help="The run's training cohort, if moved."),
    level: float = typer.Option(0.9, "--level", min=0.5, max=0.99, help="Interval level (nominal coverage)."),
    method: str = typer.Option("cv+", "--method", help="Interval method: cv+ or split."),
    exponent: float = typer.Option(10.0, "--damage-exponent", min=1.0, help="S-N exponent b of the damage index."),
    rate: float | None = RateOpt, units: str = UnitsOpt, time_column: str = TimeColOpt,
    time_unit: str = TimeUnitOpt, max_gap: float = GapOpt, delimiter: str | None = DelimOpt,
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Predict bone stress per stride with calibrated intervals, OOD flags and a damage index."""
    from footdt.twin.intervals import METHODS
    from footdt.twin.predict import (
        load_twin,
        predict_recording,
        read_for_twin,
        resolve_side,
        static_inputs,
    )

    files = [i for i in inputs if "=" not in i]
    if len(files) != 1:
        raise FootdtError(
            f"expected one recording file, got {len(files)}: {' '.join(files) or '(none)'}"
        )
    if side not in (None, "right", "left"):
        raise FootdtError(f"--side {side!r}: use right or left")
    if method not in METHODS:
        raise FootdtError(f"--method {method!r}: use one of {', '.join(METHODS)}")
    if time_unit not in ("s", "ms"):
        raise FootdtError(f"--time-unit {time_unit!r}: use s or ms")
    values = _parse_static(static)
    from footdt.twin.static import check_static

    check_static(values)  # before the networks load: a bad value is refused at once
    from footdt.cli.quiet import import_tensorflow

    import_tensorflow()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console if as_json else console, transient=True)  # fmt: skip
    with prog:
        task = prog.add_task("loading networks", total=None)
        twin = load_twin(run_dir, cohort=cohort,
                         progress=lambda i, n, _w: prog.update(task, completed=i, total=n))  # fmt: skip
    static_inputs(twin, values)
    rec, resampled_from = read_for_twin(
        twin, files[0], [*sensors, *(i for i in inputs if "=" in i)], resample=resample, side=side,
        rate_hz=rate, units=units, time_column=None if time_column.lower() == "none" else time_column,
        time_unit=time_unit, delimiter=delimiter, max_gap_s=max_gap,
    )  # fmt: skip
    rec, events, issues, how = resolve_side(rec, side, twin, allow_mirrored=allow_mirrored)
    meta = {"side": rec.side, "side_source": how, "mirrored": rec.mirrored, "rate_hz": rec.rate_hz,
            "resampled_from_hz": None if resampled_from is None else round(resampled_from, 6), "n_detected": len(events.strides),
            "issues": [i.as_dict() for i in issues]}  # fmt: skip
    p = predict_recording(twin, rec, events, static=values, level=level, method=method,  # type: ignore[arg-type]
                          exponent=exponent, meta=meta)  # fmt: skip
    from footdt.learn.rundir import write_csv

    png = out.with_suffix(".png")
    if plot:
        plot_prediction(p, png)
    try:
        write_csv(out, prediction_frame(p))
    except BaseException:
        if plot:
            png.unlink(missing_ok=True)
        raise
    if as_json:
        print_json(
            {**summary_payload(twin, p), "out": str(out), "plot": str(png) if plot else None}
        )
        return
    _print_table(twin, p)
    print_plain(f"wrote {out}" + (f" and {png}" if plot else ""))


def register(root: typer.Typer) -> None:
    """Register ``predict`` as a top-level command of ``root``."""
    root.command("predict")(predict)


register(app)
