"""``footdt gait detect | windows``: gait events and network windows from an IMU recording.

    footdt gait detect rec.csv --sensors foot=fx,fy,fz tibia=tx,ty,tz --rate 100 --units g
    footdt gait windows rec.csv --sensors foot=fx,fy,fz tibia=tx,ty,tz --out trial.npz

Sensor declarations follow ``--sensors`` (several at once, or ``--sensors`` repeated); a
leading ``-`` on a column flips that axis. Accelerations are reported in m/s^2, times in s.
``--json`` keys are stable: see ``detect_payload`` and ``windows_payload``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from footdt.cli.common import console, err_console, fail, handle_errors, print_json, print_plain

if TYPE_CHECKING:
    from footdt.gait.events import GaitEvents
    from footdt.gait.recording import Issue, Recording

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

INPUTS_HELP = (
    "The recording (CSV/TSV/C3D), then optionally more SENSOR=colx,coly,colz declarations."
)
InputsArg = typer.Argument(..., metavar="RECORDING [SENSOR=COLS]...", help=INPUTS_HELP)
SensorsOpt = typer.Option(
    ..., "--sensors", "-s", help="SENSOR=colx,coly,colz, e.g. foot=ax,ay,az (repeatable)."
)
RateOpt = typer.Option(
    None, "--rate", help="Sampling rate (Hz); checked against the time column if any."
)
UnitsOpt = typer.Option(
    "m/s^2", "--units", help="Acceleration units in the file: g or m/s^2 (m/s2)."
)
SideOpt = typer.Option(
    "right", "--side", help="Leg of the sensors: right or left (left is mirrored y -> -y)."
)
TimeColOpt = typer.Option(
    "auto", "--time-column", help="Time column name; 'auto' finds time/t/timestamp; 'none'."
)
TimeUnitOpt = typer.Option("s", "--time-unit", help="Units of the time column: s or ms.")
ResampleOpt = typer.Option(None, "--resample", help="Resample to this rate (Hz) first, e.g. 100.")
GapOpt = typer.Option(
    0.05, "--max-gap", help="Longest gap (s) of NaN/missing samples to interpolate."
)
DelimOpt = typer.Option(None, "--delimiter", help="Field delimiter (default: sniffed).")
StrictOpt = typer.Option(
    True, "--strict/--no-strict", help="Refuse recordings that fail a check (else flag)."
)
JsonOpt = typer.Option(False, "--json", help="Print JSON (stable keys) instead of a table.")


def _load(inputs: list[str], sensors: list[str], rate: float | None, units: str, side: str,
          time_column: str, time_unit: str, resample: float | None, max_gap: float,
          delimiter: str | None, strict: bool) -> tuple[Recording, GaitEvents, list[Issue]]:  # fmt: skip
    from footdt.gait.checks import analyse
    from footdt.gait.io import read_recording

    files = [i for i in inputs if "=" not in i]
    decl = [*sensors, *(i for i in inputs if "=" in i)]
    if len(files) != 1:
        raise fail(f"expected one recording file, got {len(files)}: {' '.join(files) or '(none)'}")
    if side not in ("right", "left"):
        raise typer.BadParameter(f"{side!r}: use right or left", param_hint="--side")
    if time_unit not in ("s", "ms"):
        raise typer.BadParameter(f"{time_unit!r}: use s or ms", param_hint="--time-unit")
    rec = read_recording(
        files[0], decl, rate_hz=rate, units=units, side=side, target_rate_hz=resample,
        time_column=None if time_column.lower() == "none" else time_column, time_unit=time_unit,
        delimiter=delimiter, max_gap_s=max_gap,
    )  # fmt: skip
    events, issues = analyse(rec, strict=strict)
    return rec, events, issues


def detect_payload(rec: Recording, events: GaitEvents, issues: list[Issue]) -> dict[str, Any]:
    """The ``detect --json`` object."""
    from footdt.gait.recording import ACC_UNITS

    return {
        "recording": rec.source,
        "side": rec.side,
        "mirrored": rec.mirrored,
        "rate_hz": rec.rate_hz,
        "units": ACC_UNITS,
        "source_units": rec.source_units,
        "sensors": list(events.sensors),
        "duration_s": rec.duration_s,
        "stride_period_s": events.stride_period_s,
        "cadence_spm": events.cadence_spm,
        "n_strides": len(events.strides),
        "n_flagged": sum(1 for s in events.strides if s.flags),
        "strides": [s.as_dict() for s in events.strides],
        "issues": [i.as_dict() for i in issues],
    }


def _print_issues(issues: list[Issue]) -> None:
    shown: dict[tuple[str, str | None], int] = {}
    for i in issues:
        key = (i.code, i.column)
        shown[key] = shown.get(key, 0) + 1
        if shown[key] <= 3:
            err_console.print(
                f"[yellow]{i.severity}:[/] {i.message}", highlight=False, soft_wrap=True
            )
    for (code, col), n in shown.items():
        if n > 3:
            err_console.print(
                f"[yellow]...[/] {n - 3} more {code} issues on {col}", highlight=False
            )


@app.command("detect")
@handle_errors
def detect(
    inputs: list[str] = InputsArg, sensors: list[str] = SensorsOpt, rate: float | None = RateOpt,
    units: str = UnitsOpt, side: str = SideOpt, time_column: str = TimeColOpt, time_unit: str = TimeUnitOpt,
    resample: float | None = ResampleOpt, max_gap: float = GapOpt, delimiter: str | None = DelimOpt,
    strict: bool = StrictOpt,
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG of |a| with IC/TO marks."),
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Detect initial contact and toe-off of every stride; print IC/TO, stance times and flags."""
    rec, events, issues = _load(inputs, sensors, rate, units, side, time_column, time_unit, resample,
                                max_gap, delimiter, strict)  # fmt: skip
    if plot is not None:
        plot_events(rec, events, plot)
    if as_json:
        print_json(detect_payload(rec, events, issues))
        return
    from rich.table import Table

    table = Table(
        title=f"{rec.source}: {len(events.strides)} strides, {events.cadence_spm:.0f} steps/min"
    )
    for name in ("stride", "IC (s)", "TO (s)", "stance (s)", "stride (s)", "flags"):
        table.add_column(name, justify="left" if name == "flags" else "right")
    for s in events.strides:
        stride = "" if s.stride_s is None else f"{s.stride_s:.3f}"
        table.add_row(
            str(s.index),
            f"{s.ic_s:.3f}",
            f"{s.to_s:.3f}",
            f"{s.stance_s:.3f}",
            stride,
            ", ".join(s.flags),
        )
    console.print(table)
    _print_issues(issues)
    if plot is not None:
        print_plain(f"wrote {plot}")


def windows_payload(out: Path, windows: Any, issues: list[Issue]) -> dict[str, Any]:
    """The ``windows --json`` object."""
    return {
        "out": str(out),
        "shape": list(windows.data.shape),
        "channels": list(windows.channels),
        "phases": list(windows.phases),
        "samples_per_phase": windows.samples_per_phase,
        "units": windows.units,
        "n_strides": int(windows.data.shape[0]),
        "n_detected": windows.meta["n_detected"],
        "n_dropped_flagged": windows.meta["n_dropped_flagged"],
        "phase_bounds": windows.meta["phase_bounds"],
        "issues": [i.as_dict() for i in issues],
    }


@app.command("windows")
@handle_errors
def windows_cmd(
    inputs: list[str] = InputsArg, sensors: list[str] = SensorsOpt, rate: float | None = RateOpt,
    units: str = UnitsOpt, side: str = SideOpt, time_column: str = TimeColOpt, time_unit: str = TimeUnitOpt,
    resample: float | None = ResampleOpt, max_gap: float = GapOpt, delimiter: str | None = DelimOpt,
    strict: bool = StrictOpt,
    out: Path = typer.Option(..., "--out", "-o", help="Output .npz: windows (n_strides, 300, 6) + metadata."),
    keep_flagged: bool = typer.Option(False, "--keep-flagged", help="Also window flagged strides."),
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Write per-stance windows: 3 phases x 100 samples x 6 channels (foot, tibia; m/s^2)."""
    from footdt.gait.phases import make_windows

    rec, events, issues = _load(inputs, sensors, rate, units, side, time_column, time_unit, resample,
                                max_gap, delimiter, strict)  # fmt: skip
    windows = make_windows(rec, events, keep_flagged=keep_flagged)
    out.parent.mkdir(parents=True, exist_ok=True)
    windows.save(out)
    if as_json:
        print_json(windows_payload(out, windows, issues))
        return
    n, dropped = windows.data.shape[0], windows.meta["n_dropped_flagged"]
    print_plain(f"wrote {out}: {n} strides x {windows.data.shape[1]} samples x {windows.data.shape[2]} "
                f"channels ({', '.join(windows.channels)}; {windows.units})"
                + (f"; left out {dropped} flagged strides (--keep-flagged keeps them)" if dropped else ""))  # fmt: skip
    _print_issues(issues)


def plot_events(rec: Recording, events: GaitEvents, path: Path) -> None:
    """PNG: resultant specific force (g) per sensor, stance shaded, IC and TO marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from footdt.gait.recording import G

    fig, ax = plt.subplots(figsize=(12, 4))
    for s in rec.sensors:
        ax.plot(rec.time, rec.resultant(s) / G, lw=0.8, label=f"|a| {s}")
    for st in events.strides:
        ax.axvspan(st.ic_s, st.to_s, color="0.9", zorder=0)
        ax.axvline(st.ic_s, color="tab:green", lw=0.8)
        ax.axvline(st.to_s, color="tab:red", lw=0.8, ls="--")
    ax.set(
        xlabel="time (s)", ylabel="specific force (g)", title=f"{rec.source}: IC (green), TO (red)"
    )
    ax.legend(loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
