"""``footdt loads derive``: FE loads per stance phase from plantar pressure (and GRF).

    footdt loads derive pressure.csv --regions four --out loads.yaml
    footdt loads derive pressure.csv --regions four --grf grf.csv --body-mass 68 --out loads.yaml
    footdt loads derive pressure.csv --grf run_grf.mot --achilles-sto run_ID.sto --body-mass 68 --out loads.yaml

The pressure table holds time (s) and one column per region (``--units``, default kPa); with
``--regions four`` the columns are named ``toes forefoot midfoot rearfoot``; otherwise give
``region=column`` pairs, e.g. ``--regions rearfoot=heel,midfoot=mid,forefoot=mth,toes=hallux``.
The GRF table holds ``time_s fx_n fz_n cop_x_mm`` and optionally ``ankle_x_mm ankle_z_mm
ankle_deg`` (see ``footdt.gait.loads.read_grf_csv``). OpenSim results work too: a GRF ``.mot``
(``--grf``, for the stances) with the trial's inverse-dynamics or static-optimisation ``.sto``
(``--achilles-sto``: ankle moment, or soleus + gastrocnemius forces) for the Achilles force
(``footdt.gait.storage``). The output is a subject-spec fragment:
``phases:`` with ``pressures`` (MPa) and, with ``--grf``, ``forces`` on ``achilles_insertion`` (N).
``--json`` keys: ``out, phases`` (each ``name, pressures_mpa, achilles``) and ``meta``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from footdt.cli.common import console, err_console, fail, handle_errors, print_json, print_plain

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def _loads() -> None:
    """FE loads per stance phase from plantar pressure and GRF."""


def parse_regions(text: str) -> dict[str, str]:
    """``four`` -> each region's own name as its column; else ``region=column,...``."""
    from footdt.gait.pressure import REGIONS

    if text.strip().lower() == "four":
        return {r: r for r in REGIONS}
    out = {}
    for part in text.split(","):
        region, sep, col = part.partition("=")
        if not sep or not region.strip() or not col.strip():
            raise fail(f"--regions {text!r}: use 'four' or region=column pairs separated by commas")
        out[region.strip()] = col.strip()
    missing = [r for r in REGIONS if r not in out]
    if missing:
        raise fail(f"--regions {text!r}: missing region(s) {', '.join(missing)}")
    return out


def payload(out: Path, loads: Any) -> dict[str, Any]:
    phases = []
    for p in loads.phases:
        ach = None
        if p.achilles is not None:
            a = p.achilles
            ach = {"force_n": a.force_n, "force_bw": a.force_bw, "moment_nm": a.moment_nm,
                   "moment_arm_mm": a.moment_arm_mm, "ankle_deg": a.ankle_deg,
                   "total_n": list(a.total_n)}  # fmt: skip
        phases.append({"name": p.phase, "pressures_mpa": p.pressures_mpa, "achilles": ach})
    return {"out": str(out), "phases": phases, "meta": loads.meta}


@app.command("derive")
@handle_errors
def derive(
    pressure: Path = typer.Argument(..., help="Regional plantar pressure table (CSV/TSV)."),
    regions: str = typer.Option("four", "--regions", help="'four' or region=column pairs."),
    units: str = typer.Option("kPa", "--units", help="Pressure units in the file: kPa, MPa, N/cm^2."),
    rate: float | None = typer.Option(None, "--rate", help="Sampling rate (Hz) if no time column."),
    bounds: str = typer.Option("fixed", "--phase-bounds", help="fixed (20/55 % of stance) or pressure."),
    grf: Path | None = typer.Option(None, "--grf", help="GRF table for the Achilles force."),
    body_mass: float | None = typer.Option(None, "--body-mass", help="Body mass (kg), with --grf."),
    foot_length: float = typer.Option(265.0, "--foot-length", help="Foot length (mm), scales the ankle model."),
    height: float = typer.Option(1.76, "--height", help="Stature (m), scales the shank."),
    method: str = typer.Option("auto", "--achilles", help="auto (OpenSim if installed), opensim or geometric."),
    achilles_sto: Path | None = typer.Option(None, "--achilles-sto", help="OpenSim inverse-dynamics (ankle moment) or static-optimisation (soleus + gastrocnemius forces) .sto for the Achilles force; needs --grf for the stances."),
    achilles_columns: str | None = typer.Option(None, "--achilles-columns", help="Columns of --achilles-sto to use: one *_moment, or muscle forces to sum (comma-separated)."),
    leg: str = typer.Option("right", "--leg", help="Leg of the OpenSim columns (_r / _l): right or left."),
    grf_prefix: str | None = typer.Option(None, "--grf-prefix", help="Column prefix of the foot's force plate in a GRF .mot (default: ground_force_r_, r_ground_force_, ground_force_)."),
    out: Path = typer.Option(..., "--out", "-o", help="Spec fragment to write (YAML)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (stable keys) instead of a table."),
) -> None:  # fmt: skip
    """Mean regional pressure per stance phase (and the Achilles force) as a spec fragment."""
    import yaml

    from footdt.fileio import atomic_write
    from footdt.gait.loads import derive_loads, fragment, read_grf_csv
    from footdt.gait.pressure import read_regional_csv

    if bounds not in ("fixed", "pressure"):
        raise typer.BadParameter(f"{bounds!r}: use fixed or pressure", param_hint="--phase-bounds")
    if method not in ("auto", "opensim", "geometric"):
        raise typer.BadParameter(
            f"{method!r}: use auto, opensim or geometric", param_hint="--achilles"
        )
    if (grf is None) != (body_mass is None):
        raise fail("--grf and --body-mass go together (the Achilles force needs both)")
    if achilles_sto is not None and grf is None:
        raise fail("--achilles-sto needs --grf (its stances time the phases) and --body-mass")
    if leg not in ("right", "left"):
        raise typer.BadParameter(f"{leg!r}: use right or left", param_hint="--leg")
    if body_mass is not None:
        from footdt.twin.static import check_static

        check_static({"body_mass": body_mass})
    reg = read_regional_csv(pressure, parse_regions(regions), units=units, rate_hz=rate)
    series = model = achilles = None
    if grf is not None:
        from footdt.gait.achilles import FootShankGeometry, achilles_model

        geometry = FootShankGeometry.for_subject(foot_length, height)
        model = achilles_model(geometry, method)  # type: ignore[arg-type]
        ax, az = geometry.ankle_mm
        if grf.suffix.lower() in (".mot", ".sto"):
            from footdt.gait.loads import grf_from_mot
            from footdt.gait.storage import read_achilles_sto, read_grf_mot

            if achilles_sto is None:
                raise fail(f"{grf}: an OpenSim GRF gives the centre of pressure in the lab frame, "
                           "not relative to the ankle: pass the trial's inverse-dynamics or "
                           "static-optimisation .sto (--achilles-sto), or a GRF CSV with "
                           "ankle_x_mm/ankle_z_mm")  # fmt: skip
            series = grf_from_mot(read_grf_mot(grf, leg, grf_prefix), (float(ax), float(az)))
        else:
            series, notes = read_grf_csv(str(grf), (float(ax), float(az)))
            for n in notes:
                err_console.print(f"[yellow]note:[/] {grf}: {n}", highlight=False)
        if achilles_sto is not None:
            from footdt.gait.storage import read_achilles_sto

            cols = [c.strip() for c in achilles_columns.split(",")] if achilles_columns else None
            achilles = read_achilles_sto(achilles_sto, leg, cols)
            err_console.print(f"[yellow]note:[/] {achilles_sto}: Achilles force from {achilles.method} "
                              f"({', '.join(achilles.columns)}); ankle angle: typical running curve",
                              highlight=False)  # fmt: skip
    loads = derive_loads(reg, series, model, body_mass, bounds, achilles=achilles)  # type: ignore[arg-type]
    head = (
        "# footdt loads derive: regional plantar pressure (MPa) and Achilles force (N) per phase\n"
    )
    text = head + yaml.safe_dump(fragment(loads), sort_keys=False)
    atomic_write(out, lambda tmp: tmp.write_text(text))
    if as_json:
        print_json(payload(out, loads))
        return
    from rich.table import Table

    from footdt.gait.pressure import REGIONS

    table = Table(
        title=f"{pressure}: {loads.meta['n_pressure_stances']} stance(s), {bounds} phase bounds"
    )
    for name in ("phase", *[f"{r} (MPa)" for r in REGIONS], "Achilles (N)", "Achilles (BW)"):
        table.add_column(name, justify="left" if name == "phase" else "right")
    for p in loads.phases:
        a = p.achilles
        table.add_row(p.phase, *[f"{p.pressures_mpa[r]:.4f}" for r in REGIONS],
                      "" if a is None else f"{a.force_n:.0f}", "" if a is None else f"{a.force_bw:.2f}")  # fmt: skip
    console.print(table)
    if "achilles_method" in loads.meta:
        console.print(f"Achilles moment arm: {loads.meta['achilles_method']}; peak "
                      f"{loads.meta['achilles_peak_n']:.0f} N ({loads.meta['achilles_peak_bw']:.2f} BW)")  # fmt: skip
    print_plain(f"wrote {out}")
