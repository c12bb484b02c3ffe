"""Plantar pressure: regional time series and full pressure-plate frames with region masks.

Pressures are stored in **MPa** (the FE unit; files in kPa or N/cm^2 are converted), forces in N,
time in s, plate coordinates in mm. The regions are ``REGIONS`` (toes, forefoot, midfoot,
rearfoot), the paper's four. A plate frame array is ``(T, rows, cols)``; each foot on it has a
``FootMask``: one boolean ``(rows, cols)`` mask per region plus the foot's heel and toe points
(mm, plate coordinates), which define its long axis for the strike index.

``footprint_masks`` builds masks from the peak-pressure footprint: the loaded cells, the foot's
long axis along the declared direction of travel, and the regions of ``domain.plantar_region``
(lines across the sole at fractions of foot length, slanted along the metatarsal heads), the same
regions the FE model loads (``anatomy.landmarks``) and the synthetic pressures use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from footdt.domain import PLANTAR_REGIONS, plantar_region
from footdt.gait.recording import GaitDataError, Side

#: The paper's four regions (``domain.PLANTAR_REGIONS``, heel to toes).
REGIONS: Final[tuple[str, ...]] = PLANTAR_REGIONS
PRESSURE_UNITS: Final[str] = "MPa"
_TO_MPA = {"mpa": 1.0, "kpa": 1e-3, "n/cm2": 1e-2, "n/cm^2": 1e-2, "pa": 1e-6}


def pressure_factor(units: str) -> float:
    """Factor from ``units`` (MPa, kPa, N/cm^2, Pa) to MPa."""
    key = units.strip().lower().replace(" ", "")
    if key not in _TO_MPA:
        raise GaitDataError(f"unknown pressure units {units!r}: use kPa, MPa or N/cm^2")
    return _TO_MPA[key]


@dataclass(frozen=True)
class RegionalPressure:
    """Mean pressure per region over time (MPa), optionally the centre of pressure (mm)."""

    time: np.ndarray
    rate_hz: float
    pressure: Mapping[str, np.ndarray]
    side: Side = "right"
    source: str = "<memory>"
    cop_mm: np.ndarray | None = None

    def phase_means(
        self, intervals: Mapping[str, tuple[float, float]]
    ) -> dict[str, dict[str, float]]:
        """Mean pressure (MPa) per phase and region over ``{phase: (t0, t1)}`` (s)."""
        out = {}
        for phase, (t0, t1) in intervals.items():
            sel = (self.time >= t0) & (self.time <= t1)
            if not sel.any():
                raise GaitDataError(
                    f"{self.source}: no pressure samples in {phase} ({t0:.3f}-{t1:.3f} s)"
                )
            out[phase] = {r: float(np.mean(p[sel])) for r, p in self.pressure.items()}
        return out


@dataclass(frozen=True)
class FootMask:
    """Region masks ``(rows, cols)`` of one foot on a plate and its heel/toe points (mm)."""

    side: Side
    regions: Mapping[str, np.ndarray]
    heel_mm: tuple[float, float]
    toe_mm: tuple[float, float]

    @property
    def foot(self) -> np.ndarray:
        return np.any(np.stack(list(self.regions.values())), axis=0)

    @property
    def length_mm(self) -> float:
        return float(np.hypot(self.toe_mm[0] - self.heel_mm[0], self.toe_mm[1] - self.heel_mm[1]))


@dataclass(frozen=True)
class PressureFrames:
    """Pressure-plate frames ``(T, rows, cols)`` in MPa; cell size (mm along rows, cols)."""

    frames: np.ndarray
    rate_hz: float
    cell_mm: tuple[float, float]
    feet: Mapping[str, FootMask] = field(default_factory=dict)
    source: str = "<memory>"
    t0_s: float = 0.0

    @property
    def time(self) -> np.ndarray:
        return self.t0_s + np.arange(len(self.frames)) / self.rate_hz

    def cell_centres_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """(row coordinate, col coordinate) grids of cell centres, mm."""
        _, nr, nc = self.frames.shape
        return np.meshgrid((np.arange(nr) + 0.5) * self.cell_mm[0], (np.arange(nc) + 0.5) * self.cell_mm[1],
                           indexing="ij")  # fmt: skip

    def force_n(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Total normal force (N) per frame, over ``mask`` (default the whole plate)."""
        m = np.ones(self.frames.shape[1:], bool) if mask is None else mask
        return self.frames[:, m].sum(axis=1) * self.cell_mm[0] * self.cell_mm[1]

    def cop_mm(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Centre of pressure (T, 2) in mm (row, col coordinates); NaN where unloaded."""
        m = np.ones(self.frames.shape[1:], bool) if mask is None else mask
        r, c = self.cell_centres_mm()
        p = self.frames[:, m]
        tot = p.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.stack([(p * r[m]).sum(1) / tot, (p * c[m]).sum(1) / tot], axis=1)

    def regional(self, side: Side = "right") -> RegionalPressure:
        """Mean pressure (MPa) over each region's cells of one foot, and that foot's COP."""
        if side not in self.feet:
            raise GaitDataError(
                f"{self.source}: no {side} foot mask (have: {', '.join(self.feet) or 'none'})"
            )
        fm = self.feet[side]
        pressure = {r: self.frames[:, m].mean(axis=1) for r, m in fm.regions.items()}
        return RegionalPressure(
            self.time, self.rate_hz, pressure, side, self.source, self.cop_mm(fm.foot)
        )


def footprint_masks(
    frames: np.ndarray,
    cell_mm: tuple[float, float],
    side: Side,
    travel: tuple[float, float] = (1.0, 0.0),
    threshold_mpa: float = 0.01,
) -> FootMask:
    """Masks of one footprint: loaded cells of the peak frame, split by ``domain.plantar_region``
    along the direction of travel ``travel`` (a (row, col) vector, heel -> toe). Medial is to the
    left of the travel for a right foot, to the right for a left foot, with the plate's (row, col)
    axes read as a right-handed frame seen from above (col 90 degrees to the left of row)."""
    peak = np.max(frames, axis=0)
    foot = peak > threshold_mpa
    if foot.sum() < 4:
        raise GaitDataError(f"no footprint: fewer than 4 cells exceed {threshold_mpa * 1e3:g} kPa")
    nr, nc = foot.shape
    r, c = np.meshgrid(
        (np.arange(nr) + 0.5) * cell_mm[0], (np.arange(nc) + 0.5) * cell_mm[1], indexing="ij"
    )
    u = np.asarray(travel, float) / np.linalg.norm(travel)
    left = np.array([-u[1], u[0]])
    proj = r * u[0] + c * u[1]
    lo, hi = proj[foot].min() - 0.5 * abs(u @ cell_mm), proj[foot].max() + 0.5 * abs(u @ cell_mm)
    frac = (proj - lo) / (hi - lo)
    med = (r * left[0] + c * left[1]) * (1.0 if side == "right" else -1.0)
    m0, m1 = med[foot].min(), med[foot].max()
    index = plantar_region(frac, (med - m0) / max(m1 - m0, 1e-9))
    regions = {name: foot & (index == i) for i, name in enumerate(PLANTAR_REGIONS)}
    centre = np.array([r[foot].mean(), c[foot].mean()])
    mid = centre - u * (centre @ u)
    heel, toe = mid + u * lo, mid + u * hi
    return FootMask(side, regions, (float(heel[0]), float(heel[1])), (float(toe[0]), float(toe[1])))


def read_regional_csv(
    path: str | Path,
    regions: Mapping[str, str],
    *,
    units: str = "kPa",
    rate_hz: float | None = None,
    side: Side = "right",
    cop_columns: tuple[str, str] | None = None,
    delimiter: str | None = None,
) -> RegionalPressure:
    """Read a regional pressure export: ``regions`` maps region name -> column (pressure in
    ``units``); time from a time column (s) or ``rate_hz``; optional COP columns (mm)."""
    from footdt.gait.io import _find_time_column, read_table

    df = read_table(path, delimiter)
    missing = [c for c in (*regions.values(), *(cop_columns or ())) if c not in df.columns]
    if missing:
        raise GaitDataError(
            f"{path}: column(s) {', '.join(missing)} not found; columns are {', '.join(df.columns)}"
        )
    unknown = [r for r in regions if r not in REGIONS]
    if unknown:
        raise GaitDataError(
            f"{path}: unknown region(s) {', '.join(unknown)}; regions are {', '.join(REGIONS)}"
        )
    tcol = _find_time_column(list(df.columns))
    if tcol is not None:
        time = df[tcol].to_numpy(float)
        rate = float(1.0 / np.median(np.diff(time)))
    elif rate_hz is not None:
        time, rate = np.arange(len(df)) / rate_hz, float(rate_hz)
    else:
        raise GaitDataError(f"{path}: no time column and no rate: declare --rate")
    f = pressure_factor(units)
    pressure = {r: df[c].to_numpy(float) * f for r, c in regions.items()}
    for r, p in pressure.items():
        if np.isnan(p).any():
            i = int(np.argmax(np.isnan(p)))
            raise GaitDataError(f"{path}: column {regions[r]!r} has NaN at t={time[i]:.3f} s")
    cop = None if cop_columns is None else df[list(cop_columns)].to_numpy(float)
    return RegionalPressure(time, rate, pressure, side, str(path), cop)


def read_frames_npz(path: str | Path, *, units: str | None = None) -> PressureFrames:
    """Read plate frames from ``.npz``: ``frames`` (T, rows, cols), ``rate_hz``, ``cell_mm`` (2,),
    ``units``, and per foot ``{side}_{region}`` masks plus ``{side}_heel_mm``/``{side}_toe_mm``."""
    with np.load(path, allow_pickle=False) as z:
        keys = set(z.files)
        need = {"frames", "rate_hz", "cell_mm"}
        if not need <= keys:
            raise GaitDataError(f"{path}: missing array(s) {', '.join(sorted(need - keys))}")
        u = units or (str(z["units"]) if "units" in keys else None)
        if u is None:
            raise GaitDataError(f"{path}: no 'units' array: declare the pressure units")
        frames = z["frames"].astype(float) * pressure_factor(u)
        feet = {}
        for side in ("right", "left"):
            regs = {r: z[f"{side}_{r}"].astype(bool) for r in REGIONS if f"{side}_{r}" in keys}
            if regs:
                heel, toe = z[f"{side}_heel_mm"], z[f"{side}_toe_mm"]
                feet[side] = FootMask(
                    "right" if side == "right" else "left", regs,
                    (float(heel[0]), float(heel[1])), (float(toe[0]), float(toe[1])),
                )  # fmt: skip
        cell = (float(z["cell_mm"][0]), float(z["cell_mm"][1]))
        return PressureFrames(frames, float(z["rate_hz"]), cell, feet, str(path))
