"""``footdt predict``: a trained run applied to a new runner's recording, stride by stride.

    footdt predict runs/paper rec.csv --sensors foot=fx,fy,fz tibia=tx,ty,tz --out pred.csv

Writes one CSV row per stride x target (``CSV_COLUMNS``; MPa, s) and prints, per target, the
median stride prediction, the recording-level prediction with its calibrated interval, the
share of out-of-distribution strides and the bone's damage index. ``--json`` keys are stable
(``summary_payload``). Bad input is one line on stderr, a non-zero exit and no output file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from footdt.cli.common import console, err_console, handle_errors, print_json
from footdt.cli.gait import DelimOpt, GapOpt, RateOpt, TimeColOpt, TimeUnitOpt, UnitsOpt
from footdt.errors import FootdtError

if TYPE_CHECKING:
    import pandas as pd

    from footdt.twin.predict import Prediction, Twin

CSV_COLUMNS = ("stride", "t_start_s", "target", "bone", "phase", "stat", "pred_mpa", "lower_mpa",
               "upper_mpa", "ood")  # fmt: skip

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def _group() -> None:
    """Stand-alone app holding ``predict`` (for tests); footdt registers it at the top level."""


def prediction_frame(p: Prediction) -> pd.DataFrame:
    """One row per stride x target: ``CSV_COLUMNS`` (stride = detected stride index, t_start_s
    its initial contact in s, stat the label statistic, MPa, ood True/False)."""
    import numpy as np
    import pandas as pd

    n, k = p.pred_mpa.shape
    return pd.DataFrame({
        "stride": np.repeat([s.index for s in p.strides], k),
        "t_start_s": np.repeat([s.ic_s for s in p.strides], k),
        "target": np.tile([t.name for t in p.targets], n),
        "bone": np.tile([t.bone for t in p.targets], n),
        "phase": np.tile([t.phase for t in p.targets], n),
        "stat": np.tile([t.stat for t in p.targets], n),
        "pred_mpa": p.pred_mpa.reshape(-1),
        "lower_mpa": p.lower_mpa.reshape(-1),
        "upper_mpa": p.upper_mpa.reshape(-1),
        "ood": np.repeat(p.ood, k),
    })  # fmt: skip


def _num(x: float) -> float | None:
    import math

    return None if not math.isfinite(x) else float(x)


def summary_payload(twin: Twin, p: Prediction) -> dict[str, Any]:
    """The ``--json`` object (stable keys; infinite interval bounds are null)."""
    import numpy as np

    damage = {d.bone: d for d in p.damage}
    targets = []
    for k, t in enumerate(p.targets):
        targets.append({
            "target": t.name, "phase": t.phase, "bone": t.bone, "stat": t.stat,
            "median_stride_mpa": float(np.median(p.pred_mpa[:, k])),
            "recording_mpa": float(p.recording_mpa[k]),
            "lower_mpa": _num(p.recording_lower_mpa[k]), "upper_mpa": _num(p.recording_upper_mpa[k]),
            "ood_fraction": float(p.ood.mean()), "damage_index": damage[t.bone].index,
        })  # fmt: skip
    cal = twin.calibration
    return {
        "run": str(twin.path), "experiment": twin.run.get("experiment"),
        "architecture": twin.run.get("architecture"), "samples": twin.samples,
        "domain_adaptation": twin.run.get("domain_adaptation"), "partial_run": bool(twin.run.get("partial")),
        "n_folds": len(twin.folds), "n_networks": sum(len(f.models) for f in twin.folds),
        "recording": p.source, **p.meta, "n_strides": len(p.strides),
        "interval": {"level": p.level, "method": p.method,
                     "n_calibration_trials": min(cal.n(t) for t in cal.targets),
                     "n_calibration_subjects": cal.n_subjects},
        "ood": {"n_flagged": int(p.ood.sum()), "fraction": float(p.ood.mean()),
                "threshold": twin.ood.threshold, "quantile": twin.ood.quantile,
                "reference_strides": twin.ood.n_rows, "reference_subjects": twin.ood.n_subjects},
        "targets": targets, "damage": [d.as_dict() for d in p.damage],
    }  # fmt: skip


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


def plot_prediction(p: Prediction, path: Path) -> None:
    """PNG: per target the stride predictions with their interval band (MPa), OOD strides
    marked, and the cumulative damage index per bone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from footdt.fileio import atomic_write

    k = len(p.targets)
    cols = min(4, k + 1)
    rows = -(-(k + 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), squeeze=False)
    x = np.arange(1, len(p.strides) + 1)
    for j, t in enumerate(p.targets):
        ax = axes.flat[j]
        lo, hi = p.lower_mpa[:, j], p.upper_mpa[:, j]
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(x[ok], lo[ok], hi[ok], color="tab:blue", alpha=0.2, lw=0)
        ax.plot(x, p.pred_mpa[:, j], "o-", ms=3, lw=1, color="tab:blue")
        ax.plot(x[p.ood], p.pred_mpa[p.ood, j], "x", color="tab:red", ms=6)
        ax.set_title(t.name, fontsize=8)
        ax.set_ylabel("von Mises (MPa)", fontsize=7)
        ax.tick_params(labelsize=7)
    ax = axes.flat[k]
    for d in p.damage:
        ax.plot(x, d.cumulative, lw=1.2, label=d.bone)
    ax.set_title(f"cumulative damage index (b = {p.damage[0].exponent:g})", fontsize=8)
    ax.set_xlabel("stride", fontsize=7)
    ax.set_ylabel("typical-cohort strides", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6)
    for extra in list(axes.flat)[k + 1 :]:
        extra.axis("off")
    fig.suptitle(f"{p.source}: {int(100 * p.level)} % intervals ({p.method}); x = OOD stride",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)


def _print_table(twin: Twin, p: Prediction) -> None:
    from rich import box
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
    console.print(f"wrote {out}" + (f" and {png}" if plot else ""), highlight=False)


def register(root: typer.Typer) -> None:
    """Register ``predict`` as a top-level command of ``root``."""
    root.command("predict")(predict)


register(app)
