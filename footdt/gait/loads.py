"""FE loads per stance phase: regional plantar pressure (MPa) and the Achilles tendon force (N).

- **Stances** in a plantar-pressure recording are the runs where the summed regional pressure
  exceeds ``threshold_mpa`` for at least ``min_stance_s`` (IC = first sample above, TO = last).
- **Phases** of a stance are ``footdt.gait.phases`` intervals: the fixed fractions
  (``DEFAULT_BOUNDS``, as the IMU windows use) or ``bounds="pressure"`` (measured foot flat and
  heel-off, ``phases.bounds_from_pressure``).
- **Pressure load** of a phase and region = the mean of that region's pressure over the samples
  in the phase window (``RegionalPressure.phase_means``, ends included), averaged over stances.
- **Achilles load** of a phase (``footdt.gait.achilles``): the mean plantarflexion moment over
  the phase window divided by the model's moment arm at the phase's mean ankle angle, along the
  tendon's line of action at that angle (foot frame); 0 when the mean moment is not
  plantarflexing. The peak over stance is ``max(M(t) / arm(theta(t)))``.

``fragment`` turns the loads into a subject-spec fragment (``phases:`` with ``pressures`` on the
surfaces ``toes forefoot midfoot rearfoot`` and ``forces`` on ``achilles_insertion``);
``apply_loads`` substitutes them into a subject spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from footdt.domain import ACHILLES_INSERTION, PHASES
from footdt.gait.achilles import (
    AchillesModel,
    achilles_force_n,
    plantarflexion_moment_nm,
    tendon_force_n,
)
from footdt.gait.events import Stride
from footdt.gait.phases import DEFAULT_BOUNDS, PhaseBounds, bounds_from_pressure
from footdt.gait.pressure import REGIONS, RegionalPressure
from footdt.gait.recording import G, GaitDataError
from footdt.gait.storage import AchillesSeries, GrfMot

ACHILLES_SURFACE = ACHILLES_INSERTION
Bounds = Literal["fixed", "pressure"]


@dataclass(frozen=True)
class AchillesLoad:
    """Achilles force of one phase: N, BW, moment (N m), arm (mm), angle (deg), unit direction."""

    force_n: float
    force_bw: float
    moment_nm: float
    moment_arm_mm: float
    ankle_deg: float
    direction: tuple[float, float, float]

    @property
    def total_n(self) -> tuple[float, float, float]:
        return (self.force_n * self.direction[0], self.force_n * self.direction[1],
                self.force_n * self.direction[2])  # fmt: skip


@dataclass(frozen=True)
class PhaseLoads:
    phase: str
    pressures_mpa: dict[str, float]
    achilles: AchillesLoad | None = None


@dataclass(frozen=True)
class Loads:
    """Loads per phase (``PHASES`` order) and how they were derived."""

    phases: tuple[PhaseLoads, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def phase(self, name: str) -> PhaseLoads:
        return next(p for p in self.phases if p.phase == name)


def find_stances(
    pressure: RegionalPressure, threshold_mpa: float = 0.005, min_stance_s: float = 0.1
) -> list[Stride]:
    """Stances (IC, TO in s) where the summed regional pressure exceeds ``threshold_mpa``."""
    total = np.sum([np.asarray(p, float) for p in pressure.pressure.values()], axis=0)
    on = np.r_[False, total > threshold_mpa, False]
    starts = np.flatnonzero(~on[:-1] & on[1:])
    stops = np.flatnonzero(on[:-1] & ~on[1:]) - 1
    t = pressure.time
    runs = [(float(t[a]), float(t[b])) for a, b in zip(starts, stops, strict=True)]
    out = [Stride(i, a, b, None, 0.0) for i, (a, b) in enumerate(r for r in runs if r[1] - r[0] >= min_stance_s)]  # fmt: skip
    if not out:
        raise GaitDataError(
            f"{pressure.source}: no stance: the summed regional pressure never exceeds "
            f"{threshold_mpa * 1e3:g} kPa for {min_stance_s:g} s (max {total.max() * 1e3:.1f} kPa); "
            "check --units"
        )
    return out


def phase_bounds(pressure: RegionalPressure, stride: Stride, bounds: Bounds) -> PhaseBounds:
    return bounds_from_pressure(pressure, stride) if bounds == "pressure" else DEFAULT_BOUNDS


def pressure_loads(
    pressure: RegionalPressure, bounds: Bounds = "fixed", threshold_mpa: float = 0.005
) -> tuple[dict[str, dict[str, float]], list[Stride]]:
    """``{phase: {region: MPa}}`` averaged over the recording's stances, and the stances."""
    missing = [r for r in REGIONS if r not in pressure.pressure]
    if missing:
        raise GaitDataError(f"{pressure.source}: region(s) {', '.join(missing)} missing")
    stances = find_stances(pressure, threshold_mpa)
    per = [pressure.phase_means(phase_bounds(pressure, s, bounds).intervals(s)) for s in stances]
    return {ph: {r: float(np.mean([m[ph][r] for m in per])) for r in REGIONS} for ph in PHASES}, stances  # fmt: skip


@dataclass(frozen=True)
class GrfSeries:
    """Sagittal GRF (N) with ``r = COP - ankle`` (mm, ground frame) and ankle dorsiflexion
    (deg) on one time base (s)."""

    time: np.ndarray
    fx_n: np.ndarray
    fz_n: np.ndarray
    r_x_mm: np.ndarray
    r_z_mm: np.ndarray
    ankle_deg: np.ndarray
    source: str = "<memory>"


def achilles_loads(
    grf: GrfSeries,
    intervals: Mapping[str, tuple[float, float]],
    model: AchillesModel,
    body_mass_kg: float,
) -> tuple[dict[str, AchillesLoad], float]:
    """Per-phase Achilles loads over ``{phase: (t0, t1)}`` and the peak force over them (N)."""
    bw = body_mass_kg * G
    moment = plantarflexion_moment_nm(grf.fx_n, grf.fz_n, grf.r_x_mm, grf.r_z_mm)
    out: dict[str, AchillesLoad] = {}
    peak = 0.0
    for phase, (t0, t1) in intervals.items():
        sel = (grf.time >= t0) & (grf.time <= t1)
        if not sel.any():
            raise GaitDataError(f"{grf.source}: no GRF samples in {phase} ({t0:.3f}-{t1:.3f} s)")
        m, ang = float(moment[sel].mean()), float(grf.ankle_deg[sel].mean())
        arm = float(model.moment_arm_mm(ang))
        force = float(tendon_force_n(model, m, arm))
        d = model.line_of_action(ang)
        out[phase] = AchillesLoad(force, force / bw, m, arm, ang, (float(d[0]), float(d[1]), float(d[2])))  # fmt: skip
        peak = max(peak, float(achilles_force_n(model, moment[sel], grf.ankle_deg[sel]).max()))
    return out, peak


def series_loads(
    series: AchillesSeries, stance: Stride, model: AchillesModel, body_mass_kg: float
) -> tuple[dict[str, AchillesLoad], float]:
    """Per-phase Achilles loads of one stance from an OpenSim series, and its peak force (N).
    The ankle angle (for the moment arm and the line of action) is the typical running curve
    over the stance (``TYPICAL_ANKLE_DEG``; OpenSim's ID and SO outputs do not hold it)."""
    from scipy.interpolate import PchipInterpolator

    bw = body_mass_kg * G
    t = series.time
    frac = np.clip((t - stance.ic_s) / max(stance.stance_s, 1e-9), 0.0, 1.0)
    angle = PchipInterpolator(*TYPICAL_ANKLE_DEG)(frac)
    arm = model.moment_arm_mm(angle)
    if series.force_n is not None:
        force_t = np.asarray(series.force_n, float)
        moment_t = force_t * arm / 1000.0
    else:
        moment_t = np.asarray(series.moment_nm, float)
        force_t = np.maximum(moment_t, 0.0) * 1000.0 / arm
    out: dict[str, AchillesLoad] = {}
    peak = 0.0
    for phase, (t0, t1) in DEFAULT_BOUNDS.intervals(stance).items():
        sel = (t >= t0) & (t <= t1)
        if not sel.any():
            raise GaitDataError(f"{series.source}: no samples in {phase} ({t0:.3f}-{t1:.3f} s) of "
                                "the GRF stance: not the same trial, or too coarse")  # fmt: skip
        m, ang = float(moment_t[sel].mean()), float(angle[sel].mean())
        a = float(model.moment_arm_mm(ang))
        force = (
            float(force_t[sel].mean()) if series.force_n is not None else max(m, 0.0) * 1000.0 / a
        )
        d = model.line_of_action(ang)
        out[phase] = AchillesLoad(force, force / bw, m, a, ang, (float(d[0]), float(d[1]), float(d[2])))  # fmt: skip
        peak = max(peak, float(force_t[sel].max()))
    return out, peak


def grf_from_mot(mot: GrfMot, ankle_mm: tuple[float, float]) -> GrfSeries:
    """A ``GrfSeries`` for stance timing from an OpenSim GRF (no ankle position: the moment
    about the ankle is not computed from it, the OpenSim series gives the force)."""
    nan = np.full_like(mot.time, np.nan)
    return GrfSeries(mot.time, mot.fx_n, mot.fz_n, nan, np.full_like(mot.time, -ankle_mm[1]),
                     np.zeros_like(mot.time), mot.source)  # fmt: skip


#: Typical ankle dorsiflexion (deg) over running stance (fraction of stance), used only when a
#: GRF file has no ``ankle_deg`` column (the result then says so in ``meta``).
TYPICAL_ANKLE_DEG = ((0.0, 0.45, 0.7, 1.0), (3.0, 18.0, 13.0, -20.0))


def grf_stances(time: np.ndarray, fz_n: np.ndarray, threshold_n: float = 20.0) -> list[Stride]:
    """Contacts where the vertical GRF exceeds ``threshold_n`` for at least 0.1 s."""
    on = np.r_[False, fz_n > threshold_n, False]
    a = np.flatnonzero(~on[:-1] & on[1:])
    b = np.flatnonzero(on[:-1] & ~on[1:]) - 1
    runs = [(float(time[i]), float(time[j])) for i, j in zip(a, b, strict=True) if time[j] - time[i] >= 0.1]  # fmt: skip
    return [Stride(k, i, j, None, 0.0) for k, (i, j) in enumerate(runs)]


def read_grf_csv(path: str, ankle_mm: tuple[float, float], delimiter: str | None = None) -> tuple[GrfSeries, list[str]]:  # fmt: skip
    """Read a sagittal GRF table: time (s), ``fx_n`` (+ anterior), ``fz_n`` (N), ``cop_x_mm``
    (mm from the heel along the foot, ground frame); optional ``ankle_x_mm``/``ankle_z_mm``
    (ankle centre, same frame) and ``ankle_deg`` (dorsiflexion). Without the ankle position the
    foot is taken as flat with the ankle at ``ankle_mm`` (foot frame); without the angle, the
    ``TYPICAL_ANKLE_DEG`` curve is used. Returns the series and notes on what was assumed."""
    from scipy.interpolate import PchipInterpolator

    from footdt.gait.io import _find_time_column, column_list, numeric_column, read_table

    df = read_table(path, delimiter)
    need = ["fx_n", "fz_n", "cop_x_mm"]
    tcol = _find_time_column(list(df.columns))
    missing = [c for c in need if c not in df.columns] + ([] if tcol else ["time_s"])
    if missing:
        raise GaitDataError(f"{path}: column(s) {', '.join(missing)} not found; columns are {column_list(df.columns)}")  # fmt: skip
    time = numeric_column(df, tcol, path)  # type: ignore[arg-type]
    fx, fz, cop = (numeric_column(df, c, path) for c in need)
    notes = []
    if {"ankle_x_mm", "ankle_z_mm"} <= set(df.columns):
        ax, az = numeric_column(df, "ankle_x_mm", path), numeric_column(df, "ankle_z_mm", path)
    else:
        ax, az = np.full_like(time, ankle_mm[0]), np.full_like(time, ankle_mm[1])
        notes.append(f"no ankle_x_mm/ankle_z_mm: foot assumed flat, ankle at {ankle_mm[0]:.0f}, {ankle_mm[1]:.0f} mm")  # fmt: skip
    if "ankle_deg" in df.columns:
        ang = numeric_column(df, "ankle_deg", path)
    else:
        ang = np.zeros_like(time)
        curve = PchipInterpolator(*TYPICAL_ANKLE_DEG)
        for st in grf_stances(time, fz):
            sel = (time >= st.ic_s) & (time <= st.to_s)
            ang[sel] = curve((time[sel] - st.ic_s) / st.stance_s)
        notes.append("no ankle_deg: typical running ankle angle curve assumed")
    cop = np.where(fz > 0, cop, ax)  # COP is undefined in flight; no moment there anyway
    bad = ~np.isfinite(np.c_[fx, fz, cop, ax, az, ang]).all(axis=1) & (fz > 20.0)
    if bad.any():
        raise GaitDataError(f"{path}: NaN in stance at t={time[np.argmax(bad)]:.3f} s")
    return GrfSeries(time, fx, fz, cop - ax, -az, ang, str(path)), notes


def derive_loads(
    pressure: RegionalPressure,
    grf: GrfSeries | None = None,
    model: AchillesModel | None = None,
    body_mass_kg: float | None = None,
    bounds: Bounds = "fixed",
    threshold_mpa: float = 0.005,
    achilles: AchillesSeries | None = None,
) -> Loads:
    """Pressure loads per phase, and with ``grf`` the Achilles loads (averaged over the GRF's
    stances, each cut into phases with the same ``bounds`` rule; pressure bounds need the
    pressure stance, so GRF phases then use the fixed fractions). With ``achilles`` (an
    OpenSim inverse-dynamics moment or static-optimisation force, ``footdt.gait.storage``) the
    force comes from it instead of from the GRF's moment about the ankle."""
    press, stances = pressure_loads(pressure, bounds, threshold_mpa)
    meta: dict[str, Any] = {
        "pressure_source": pressure.source, "n_pressure_stances": len(stances),
        "pressure_stances_s": [[s.ic_s, s.to_s] for s in stances], "phase_bounds": bounds,
        "pressure_units": "MPa",
    }  # fmt: skip
    ach: dict[str, AchillesLoad] = {}
    if grf is not None:
        if model is None or body_mass_kg is None:
            raise GaitDataError("Achilles loads need an Achilles model and the body mass")
        g_st = grf_stances(grf.time, grf.fz_n)
        if not g_st:
            raise GaitDataError(f"{grf.source}: no stance (fz_n never above 20 N for 0.1 s)")
        if achilles is not None:
            from footdt.gait.storage import check_units

            check_units(achilles, body_mass_kg, g_st)
            runs = [series_loads(achilles, s, model, body_mass_kg) for s in g_st]
            meta.update(achilles_source=achilles.source, achilles_from=achilles.method,
                        achilles_columns=list(achilles.columns))  # fmt: skip
        else:
            runs = [
                achilles_loads(grf, DEFAULT_BOUNDS.intervals(s), model, body_mass_kg) for s in g_st
            ]
        for ph in PHASES:
            parts = [r[0][ph] for r in runs]
            m = float(np.mean([p.moment_nm for p in parts]))
            ang = float(np.mean([p.ankle_deg for p in parts]))
            force = float(np.mean([p.force_n for p in parts]))
            d = model.line_of_action(ang)
            ach[ph] = AchillesLoad(force, force / (body_mass_kg * G), m, float(model.moment_arm_mm(ang)),
                                   ang, (float(d[0]), float(d[1]), float(d[2])))  # fmt: skip
        peak = max(r[1] for r in runs)
        meta.update(grf_source=grf.source, n_grf_stances=len(g_st), achilles_method=model.method,
                    achilles_peak_n=peak, achilles_peak_bw=peak / (body_mass_kg * G),
                    body_mass_kg=body_mass_kg)  # fmt: skip
    phases = tuple(PhaseLoads(ph, press[ph], ach.get(ph)) for ph in PHASES)
    return Loads(phases, meta)


def fragment(loads: Loads) -> dict[str, Any]:
    """A subject-spec fragment: ``{"phases": [{name, pressures, forces}]}`` (MPa, N)."""
    phases = []
    for p in loads.phases:
        entry: dict[str, Any] = {
            "name": p.phase,
            "pressures": [{"surface": r, "value": round(p.pressures_mpa[r], 6)} for r in REGIONS],
        }
        if p.achilles is not None:
            entry["forces"] = [
                {"on": ACHILLES_SURFACE, "total": [round(v, 3) for v in p.achilles.total_n]}
            ]
        phases.append(entry)
    return {"phases": phases}


def apply_loads(spec: Any, loads: Loads) -> Any:
    """A copy of a ``SubjectSpec`` whose phases carry ``loads``: region pressures and the
    Achilles force replace those on the same surfaces; other loads and BCs are kept."""
    from footdt.errors import SpecError
    from footdt.spec.subject import Force, Pressure

    names = [p.name for p in spec.phases]
    missing = [p.phase for p in loads.phases if p.phase not in names]
    if missing:
        raise SpecError(
            f"subject spec {spec.id}: no phase(s) {', '.join(missing)} to put loads on; "
            f"the spec has {', '.join(names)}"
        )
    new = []
    for ph in spec.phases:
        pl = next((p for p in loads.phases if p.phase == ph.name), None)
        if pl is None:
            new.append(ph)
            continue
        pressures = [p for p in ph.pressures if p.surface not in REGIONS]
        pressures += [Pressure(surface=r, value=pl.pressures_mpa[r]) for r in REGIONS]
        forces = list(ph.forces)
        if pl.achilles is not None:
            forces = [f for f in forces if f.on != ACHILLES_SURFACE]
            forces.append(Force(on=ACHILLES_SURFACE, total=pl.achilles.total_n))
        new.append(ph.model_copy(update={"pressures": pressures, "forces": forces}))
    return spec.model_copy(update={"phases": new})
