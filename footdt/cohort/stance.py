"""One synthetic stance: ground reaction force, centre of pressure, foot and ankle angles, regional
plantar pressure. Everything is a function of the stance fraction ``s`` in [0, 1] (IC = 0, TO = 1).

Units: forces in body weights (BW) unless the name says N, positions in mm in the foot frame
(heel at x = 0, ground z = 0, x anterior), angles in degrees, pressure in MPa.

- **Vertical GRF** = an active bell ``A sin(pi s^k)^p`` peaking at ``peak_at`` plus, for rearfoot
  strikers, an impact bump (Gaussian at ``impact_at``) sized so that the force there is
  ``impact_bw`` (REFERENCE.md: 1.5-2 BW at 10-15 % of stance); ``A`` follows from the vertical
  impulse of a step, ``BW x step time`` (constant speed, no net vertical motion), so the active
  peak (~2.5 BW) is a consequence of stance time and cadence, not a parameter.
- **Anteroposterior GRF**: braking then propulsion, ``-ap_bw sin(2 pi s)`` plus a braking spike
  with the impact, corrected to zero net impulse (constant speed).
- **COP** (fraction of foot length): rearfoot strikers start at the strike index (0.08-0.33) and
  move forward quickly (forefoot ~0.7 by 55 % of stance); forefoot strikers start at ~0.7, move
  back a little as the heel drops, then forward; all end near the toes.
- **Foot pitch** (toes up +): rocks about the first contact point to foot flat (``foot_flat_at``),
  then about the metatarsal heads from ``heel_off_at`` to ``pitch_to_deg`` at TO.
  The shank leans forward steadily (``lean_deg``); **ankle dorsiflexion** = lean + pitch
  (+ dorsiflexion): IC -> peak at heel-off -> plantarflexed at TO.
- **Regional pressure**: the vertical force spread along the foot by a Gaussian load line whose
  centroid is the COP, over the part of the sole in contact, weighted by the contact width
  (the midfoot's narrows with a higher arch); region force / region area = mean pressure over the
  region (regions of ``footdt.gait.pressure.REGION_FRACTIONS``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator

from footdt.gait.pressure import REGION_FRACTIONS, REGIONS
from footdt.gait.recording import G

#: Metatarsal-head line (heel-off pivot), fraction of foot length.
MTP = 0.72
#: Contact width of each region as a fraction of foot width (midfoot: at the mean arch).
WIDTH = {"rearfoot": 0.62, "midfoot": 0.42, "forefoot": 0.95, "toes": 0.72}
MEAN_ARCH_RATIO = 0.151
_N = 240  # points along the foot for the load line
#: SD of the load line about the COP (fraction of foot length).
SPREAD = 0.16


@dataclass(frozen=True)
class StanceParams:
    """Parameters of one stance (see the module docstring for each shape)."""

    body_mass_kg: float
    foot_length_mm: float
    foot_width_mm: float
    arch_height_mm: float
    stance_s: float
    step_s: float
    strike_index: float
    impact_bw: float
    impact_at: float
    impact_width: float
    peak_at: float
    active_shape: float
    ap_bw: float
    cop_end: float
    pitch_ic_deg: float
    pitch_to_deg: float
    foot_flat_at: float
    heel_off_at: float
    ankle_ic_deg: float
    ankle_peak_deg: float
    ankle_to_deg: float

    @property
    def rearfoot(self) -> bool:
        return self.strike_index <= 1.0 / 3.0

    @property
    def body_weight_n(self) -> float:
        return self.body_mass_kg * G


def _smootherstep(u: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope and curvature at both ends (the foot settles without a slap)."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u * u)


def _bump(s: np.ndarray, p: StanceParams) -> np.ndarray:
    onset = 1.0 - np.exp(-((s / 0.025) ** 2))
    return np.exp(-0.5 * ((s - p.impact_at) / p.impact_width) ** 2) * onset


def _active(s: np.ndarray, p: StanceParams) -> np.ndarray:
    k = np.log(0.5) / np.log(p.peak_at)
    return np.sin(np.pi * np.clip(s, 0.0, 1.0) ** k) ** p.active_shape


def vertical_grf_bw(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Vertical GRF (BW) at stance fractions ``s``."""
    grid = np.linspace(0.0, 1.0, 2001)
    ia = np.trapezoid(_active(grid, p), grid)
    need = p.step_s / p.stance_s  # mean force over stance (BW)
    if not p.rearfoot:
        return need / ia * _active(s, p)
    ib = np.trapezoid(_bump(grid, p), grid)
    a_i = float(_active(np.array([p.impact_at]), p)[0])
    b_i = float(_bump(np.array([p.impact_at]), p)[0])
    # A * active + B * bump: force impact_bw at impact_at and the step's impulse
    amp, bump = np.linalg.solve([[a_i, b_i], [ia, ib]], [p.impact_bw, need])
    bump = max(bump, 0.0)
    if bump == 0.0:
        amp = need / ia
    return amp * _active(s, p) + bump * _bump(s, p)


def ap_grf_bw(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Anteroposterior GRF (BW, + anterior = propulsive) with zero net impulse."""
    grid = np.linspace(0.0, 1.0, 2001)

    def raw(x: np.ndarray) -> np.ndarray:
        spike = 0.25 * p.impact_bw * _bump(x, p) if p.rearfoot else 0.0 * x
        return -p.ap_bw * np.sin(2 * np.pi * x) - spike

    corr = np.sin(np.pi * grid) ** 2
    delta = -np.trapezoid(raw(grid), grid) / np.trapezoid(corr, grid)
    return raw(s) + delta * np.sin(np.pi * np.clip(s, 0, 1)) ** 2


def cop_fraction(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Centre of pressure along the foot (fraction of foot length from the heel)."""
    c0 = p.strike_index
    if p.rearfoot:
        knots = [(0.0, c0), (0.1, c0 + 0.05), (0.3, 0.52), (0.55, 0.76), (0.8, 0.83)]
    elif c0 > 0.55:
        knots = [(0.0, c0), (0.18, c0 - 0.05), (0.55, max(c0 + 0.01, 0.74)), (0.8, 0.82)]
    else:
        knots = [(0.0, c0), (0.2, c0 + 0.05), (0.55, 0.76), (0.8, 0.83)]
    knots.append((1.0, p.cop_end))
    x, y = zip(*knots, strict=True)
    return PchipInterpolator(x, y)(np.clip(s, 0, 1))


def foot_pitch_deg(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Foot pitch (deg, toes up +): first rocker, foot flat, heel-off rocker."""
    early = p.pitch_ic_deg * (1.0 - _smootherstep(s / p.foot_flat_at))
    u = np.clip((s - p.heel_off_at) / (1.0 - p.heel_off_at), 0.0, None)
    late = p.pitch_to_deg * (1.5 * u**2 - 0.5 * u**3)  # rolls ever faster, steady at TO
    return np.where(s < p.foot_flat_at, early, np.where(s > p.heel_off_at, late, 0.0))


def lean_deg(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Forward lean of the shank (deg, knee ahead of ankle +): it rotates steadily forward over
    the foot, fast early, and reaches its heel-off value (= peak dorsiflexion, foot flat) at
    heel-off (RBDS001: -6 deg at IC, 24 deg at 40 %, 33 deg at TO)."""
    ho = p.heel_off_at
    lo = p.ankle_ic_deg - p.pitch_ic_deg
    hi = p.ankle_peak_deg
    knots = (
        [0.0, 0.5 * ho, ho, 1.0],
        [lo, lo + 0.8 * (hi - lo), hi, p.ankle_to_deg - p.pitch_to_deg],
    )
    return PchipInterpolator(*knots)(np.clip(s, 0, 1))


def ankle_deg(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Ankle dorsiflexion (deg) = shank lean + foot pitch: the foot's rockers happen at the
    ankle, not the shank (the foot slaps down while the shank keeps rotating forward)."""
    return lean_deg(s, p) + foot_pitch_deg(s, p)


def pivot_mm(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """x (mm, foot frame = ground frame at foot flat) of the point the foot rocks about."""
    first = p.strike_index * p.foot_length_mm
    return np.where(s <= p.heel_off_at, first, MTP * p.foot_length_mm)


def rotate(local_xz: np.ndarray, pitch_deg: np.ndarray, pivot_x: np.ndarray) -> np.ndarray:
    """Ground (x, z) of foot-frame points ``(..., 2)`` pitched about a ground pivot (mm)."""
    a = np.radians(pitch_deg)
    dx, dz = local_xz[..., 0] - pivot_x, local_xz[..., 1]
    return np.stack(
        [pivot_x + dx * np.cos(a) - dz * np.sin(a), dx * np.sin(a) + dz * np.cos(a)], -1
    )


def ankle_lever_mm(s: np.ndarray, p: StanceParams, ankle_local: np.ndarray) -> np.ndarray:
    """``r = COP - ankle`` (mm, ground frame, (n, 2)) for the plantarflexion moment."""
    pitch, piv = foot_pitch_deg(s, p), pivot_mm(s, p)
    ankle = rotate(np.broadcast_to(ankle_local, (len(s), 2)), pitch, piv)
    cop_local = cop_fraction(s, p) * p.foot_length_mm
    cop_x = piv + (cop_local - piv) * np.cos(np.radians(pitch))
    return np.stack([cop_x - ankle[:, 0], -ankle[:, 1]], axis=1)


def _support(p: StanceParams, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(contact width in mm, relative support) along the foot: the arch carries half the pressure
    of heel and forefoot, and its contact narrows as the arch rises."""
    mid = float(np.clip(WIDTH["midfoot"] - 3.0 * (p.arch_height_mm / p.foot_length_mm - MEAN_ARCH_RATIO), 0.15, 0.6))  # fmt: skip
    w = {**WIDTH, "midfoot": mid}
    width, support = np.zeros_like(x), np.ones_like(x)
    for r, (a, b) in REGION_FRACTIONS.items():
        width[(x >= a) & (x < b)] = w[r] * p.foot_width_mm
    support[(x >= REGION_FRACTIONS["midfoot"][0]) & (x < REGION_FRACTIONS["midfoot"][1])] = 0.5
    return width, support


def _contact(x: np.ndarray, s: float, cop: float, pitch: float, p: StanceParams) -> np.ndarray:
    """Smooth 0-1 window of the part of the sole on the ground."""
    lo, hi = 0.0, 1.0
    if pitch > 0:  # heel rocker: from the heel to ahead of the contact point
        hi = min(1.0, cop + 0.12 + 0.9 * (1 - pitch / max(p.pitch_ic_deg, 1e-6)))
    elif pitch < 0 and s > p.heel_off_at:  # heel-off: the heel leaves first
        lo = min(cop - 0.08, 0.65 * pitch / p.pitch_to_deg)
    elif pitch < 0:  # forefoot strike: the heel comes down
        lo = max(0.0, (cop - 0.15) * pitch / p.pitch_ic_deg)
    return 1.0 / (1.0 + np.exp(-(x - lo) / 0.01)) / (1.0 + np.exp((x - hi) / 0.01))


def regional_pressure_mpa(s: np.ndarray, p: StanceParams) -> dict[str, np.ndarray]:
    """Mean pressure (MPa) over each region's area at stance fractions ``s``: the vertical force
    spread over the sole in contact as ``width x support x N(x; COP, SPREAD) x exp(lam x)``, with
    ``lam`` such that the load centroid is the COP."""
    x = (np.arange(_N) + 0.5) / _N
    dx = p.foot_length_mm / _N
    width, support = _support(p, x)
    masks = {r: (x >= a) & (x < b) for r, (a, b) in REGION_FRACTIONS.items()}
    area = {r: float(width[m].sum() * dx) for r, m in masks.items()}
    fz = vertical_grf_bw(s, p) * p.body_weight_n
    cop, pitch = cop_fraction(s, p), foot_pitch_deg(s, p)
    on = fz > 0
    base = np.stack([width * support * _contact(x, float(si), float(ci), float(pi), p)
                     for si, ci, pi in zip(s[on], cop[on], pitch[on], strict=True)])  # fmt: skip
    c = cop[on][:, None]
    shape = base * np.exp(-0.5 * ((x - c) / SPREAD) ** 2)
    lo, hi = np.full((len(c), 1), -300.0), np.full((len(c), 1), 300.0)
    for _ in range(60):  # bisection on the tilt: the load centroid grows with lam
        lam = 0.5 * (lo + hi)
        g = shape * np.exp(lam * (x - c))
        low = (g * x).sum(axis=1, keepdims=True) / g.sum(axis=1, keepdims=True) < c
        lo, hi = np.where(low, lam, lo), np.where(low, hi, lam)
    share = g / g.sum(axis=1, keepdims=True)
    out = {r: np.zeros(len(s)) for r in REGIONS}
    for r, m in masks.items():
        out[r][on] = fz[on] * share[:, m].sum(axis=1) / area[r]
    return out
