"""One synthetic stance from one stride's gait state: ground reaction force, centre of pressure,
foot and ankle angles, regional plantar pressure. Functions of the stance fraction ``s`` in
[0, 1] (IC = 0, TO = 1).

Units: forces in body weights (BW) unless the name says N, impulses in BW s, positions in mm in
the foot frame (heel at x = 0, ground z = 0, x anterior) or as fractions of foot length, angles
in degrees, pressure in MPa.

- **Vertical GRF: a two-mass impulse model** (Clark, Ryan & Weyand 2017, J Exp Biol 220:247).
  The stance foot and shank (an effective mass ``m1``, ~8 % of body mass, a hidden per-runner
  ratio) land at ``touchdown_v_m_s`` and the ground stops them: impulse ``J1 = m1 v`` delivered
  as a raised cosine over twice the arrest time (``F1 = J1 / t_a`` at ``t_a``; the same
  deceleration, ``v / t_a`` at its peak, drives the tibia in ``cohort.imu``). The rest of the
  body makes the active force ``F2``, a bell ``sin(pi s^k)^p`` over the contact time peaking at
  ``active_peak_frac``, whose impulse completes a step's: ``J1 + J2 = BW x step time`` (no net
  vertical motion over a step: contact + flight). So impact peak and loading rate follow from
  touchdown velocity, arrest time and effective mass; the active peak from contact and flight time.
- **Anteroposterior GRF** (+ propulsive) from the stride's impulses: the foot's forward velocity
  at contact arrested over ``arrest_x_s`` (``m1 x touchdown_vx``, a braking spike), the rest of
  the braking impulse as a half sine up to the active peak, the propulsive impulse as a half sine
  after it (equal to the braking impulse: constant speed).
- **Centre of pressure** (fraction of foot length): from the strike index at contact, along the
  foot with the rockers (foot flat, heel-off), to ``cop_end_frac`` at toe-off; the hidden toe
  loading moves the late path forward (``cohort.runners``).
- **Foot pitch** (toes up +): rocks about the first contact point to foot flat, then about the
  metatarsal heads from heel-off to ``toe_off_pitch_deg``; **ankle dorsiflexion** = shank lean +
  pitch, from ``ankle_ic_deg`` to ``ankle_peak_deg`` at heel-off to ``ankle_to_deg``.
- **Regional pressure**: the vertical force spread over the FE model's own plantar faces
  (``cohort.sole``) in contact, as a load line around the COP tilted so that its centroid is
  the COP, weighted per region by the runner's hidden load sharing (midfoot, toes vs forefoot and
  heel); region force / region area. The regions and areas are those the FE model loads, so the
  pressures times the FE areas give back the vertical force exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator

from footdt.cohort.sole import Sole
from footdt.cohort.state import GaitState
from footdt.domain import PLANTAR_REGIONS
from footdt.gait.recording import G

#: Metatarsal-head line (heel-off pivot), fraction of foot length.
MTP = 0.72
#: SD of the load line about the COP (fraction of foot length).
SPREAD = 0.16
#: Relative pressure the arch carries at the cohort's mean load sharing (heel, forefoot = 1).
ARCH_SUPPORT = 0.5


@dataclass(frozen=True)
class StanceParams:
    """One stance: the stride's gait state and the runner's body (mass, foot, hidden factors)."""

    state: GaitState
    body_mass_kg: float
    foot_length_mm: float
    effective_mass_ratio: float = 0.08
    load_midfoot: float = 1.0
    load_toes: float = 1.0

    @property
    def rearfoot(self) -> bool:
        return self.state.rearfoot

    @property
    def body_weight_n(self) -> float:
        return self.body_mass_kg * G

    @property
    def stance_s(self) -> float:
        return self.state.contact_s

    @property
    def impact_impulse_bw_s(self) -> float:
        """``J1 = m1 x touchdown velocity`` in BW s."""
        return self.effective_mass_ratio * self.state.touchdown_v_m_s / G


@functools.lru_cache(maxsize=4096)
def _pchip(x: tuple[float, ...], y: tuple[float, ...]) -> PchipInterpolator:
    """A shape-preserving interpolant through the knots (cached: a stance is evaluated often)."""
    return PchipInterpolator(np.array(x), np.array(y))


def _smootherstep(u: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope and curvature at both ends (the foot settles without a slap)."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u * u)


def raised_cosine(t: np.ndarray, t_peak: float) -> np.ndarray:
    """Unit-impulse pulse (1/s) over [0, 2 t_peak], peak ``1 / t_peak`` at ``t_peak``."""
    t = np.asarray(t, float)
    on = (t >= 0) & (t <= 2.0 * t_peak)
    return np.where(on, (1.0 - np.cos(np.pi * t / t_peak)) / (2.0 * t_peak), 0.0)


def _bell(s: np.ndarray, st: GaitState) -> np.ndarray:
    k = np.log(0.5) / np.log(st.active_peak_frac)
    return np.sin(np.pi * np.clip(s, 0.0, 1.0) ** k) ** st.active_shape


def _bell_area(st: GaitState) -> float:
    grid = np.linspace(0.0, 1.0, 2001)
    return float(np.trapezoid(_bell(grid, st), grid))


def impact_grf_bw(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """The lower limb's share ``F1`` (BW): ``J1`` over twice the arrest time."""
    return p.impact_impulse_bw_s * raised_cosine(np.asarray(s) * p.stance_s, p.state.arrest_s)


def active_grf_bw(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """The rest of the body's share ``F2`` (BW): impulse ``BW x step time - J1`` over contact."""
    st = p.state
    j2 = st.step_s - p.impact_impulse_bw_s
    return j2 / (st.contact_s * _bell_area(st)) * _bell(np.asarray(s), st)


def vertical_grf_bw(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Vertical GRF (BW) at stance fractions ``s`` (two-mass model)."""
    s = np.asarray(s, float)
    return np.where((s >= 0) & (s <= 1), impact_grf_bw(s, p) + active_grf_bw(s, p), 0.0)


def _half_sine(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Unit-impulse half sine (1/s) over [t0, t1]."""
    on = (t >= t0) & (t <= t1)
    return np.where(on, np.pi / (2.0 * (t1 - t0)) * np.sin(np.pi * (t - t0) / (t1 - t0)), 0.0)


def ap_impulses_bw_s(p: StanceParams) -> tuple[float, float, float]:
    """(foot arrest, rest of braking, propulsion) impulses in BW s, all >= 0."""
    st = p.state
    spike = min(p.effective_mass_ratio * st.touchdown_vx_m_s / G, 0.75 * st.braking_impulse_bw_s)
    return spike, st.braking_impulse_bw_s - spike, st.propulsive_impulse_bw_s


def ap_grf_bw(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Anteroposterior GRF (BW, + anterior = propulsive); impulses ``ap_impulses_bw_s``."""
    st = p.state
    t = np.clip(np.asarray(s, float), 0.0, 1.0) * st.contact_s
    spike, brake, prop = ap_impulses_bw_s(p)
    mid = (st.active_peak_frac + 0.04) * st.contact_s
    out = -spike * raised_cosine(t, st.arrest_x_s) - brake * _half_sine(t, 0.0, mid)
    return np.where((np.asarray(s) >= 0) & (np.asarray(s) <= 1),
                    out + prop * _half_sine(t, mid, st.contact_s), 0.0)  # fmt: skip


def cop_fraction(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Centre of pressure along the foot (fraction of foot length from the heel)."""
    st = p.state
    c0, ff, ho = st.strike_index, st.foot_flat_frac, st.heel_off_frac
    late = 0.83 + 0.03 * (p.load_toes - 1.0)
    if st.rearfoot:
        knots = [(0.0, c0), (0.35 * ff, c0 + 0.05), (ff, 0.50), (ho + 0.05, 0.75), (0.8, late)]
    elif c0 > 0.55:
        knots = [(0.0, c0), (0.18, c0 - 0.05), (ho + 0.05, max(c0 + 0.01, 0.74)), (0.8, late)]
    else:
        knots = [(0.0, c0), (0.2, c0 + 0.05), (ho + 0.05, 0.76), (0.8, late)]
    knots.append((1.0, st.cop_end_frac))
    x, y = zip(*sorted(knots), strict=True)
    return _pchip(tuple(map(float, x)), tuple(map(float, y)))(np.clip(s, 0, 1))


def foot_pitch_deg(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Foot pitch (deg, toes up +): first rocker, foot flat, heel-off rocker."""
    st = p.state
    s = np.asarray(s, float)
    early = st.foot_angle_ic_deg * (1.0 - _smootherstep(s / st.foot_flat_frac))
    u = np.clip((s - st.heel_off_frac) / (1.0 - st.heel_off_frac), 0.0, None)
    late = st.toe_off_pitch_deg * (1.5 * u**2 - 0.5 * u**3)  # rolls ever faster, steady at TO
    return np.where(s < st.foot_flat_frac, early, np.where(s > st.heel_off_frac, late, 0.0))


def lean_deg(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Forward lean of the shank (deg, knee ahead of ankle +): it rotates steadily forward over
    the foot, fast early, and reaches its heel-off value (= peak dorsiflexion, foot flat) at
    heel-off (RBDS001: -6 deg at IC, 24 deg at 40 %, 33 deg at TO)."""
    st = p.state
    ho = st.heel_off_frac
    lo = st.ankle_ic_deg - st.foot_angle_ic_deg
    hi = st.ankle_peak_deg
    knots = ((0.0, 0.5 * ho, ho, 1.0), (lo, lo + 0.8 * (hi - lo), hi, st.ankle_to_deg - st.toe_off_pitch_deg))  # fmt: skip
    return _pchip(*knots)(np.clip(s, 0, 1))


def ankle_deg(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """Ankle dorsiflexion (deg) = shank lean + foot pitch."""
    return lean_deg(s, p) + foot_pitch_deg(s, p)


def pivot_mm(s: np.ndarray, p: StanceParams) -> np.ndarray:
    """x (mm, foot frame = ground frame at foot flat) of the point the foot rocks about."""
    first = p.state.strike_index * p.foot_length_mm
    return np.where(np.asarray(s) <= p.state.heel_off_frac, first, MTP * p.foot_length_mm)


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


def contact_window(x: np.ndarray, s: float, cop: float, pitch: float, p: StanceParams) -> np.ndarray:  # fmt: skip
    """Smooth 0-1 window of the part of the sole on the ground (x: fraction of foot length)."""
    st = p.state
    lo, hi = 0.0, 1.0
    if pitch > 0:  # heel rocker: from the heel to ahead of the contact point
        hi = min(1.0, cop + 0.12 + 0.9 * (1 - pitch / max(st.foot_angle_ic_deg, 1e-6)))
    elif pitch < 0 and s > st.heel_off_frac:  # heel-off: the heel leaves first
        lo = min(cop - 0.08, 0.65 * pitch / st.toe_off_pitch_deg)
    elif pitch < 0:  # forefoot strike: the heel comes down
        lo = max(0.0, (cop - 0.15) * pitch / st.foot_angle_ic_deg)
    return 1.0 / (1.0 + np.exp(-(x - lo) / 0.01)) / (1.0 + np.exp((x - hi) / 0.01))


def region_shares(s: np.ndarray, p: StanceParams, sole: Sole, n_bins: int = 200) -> np.ndarray:
    """(len(s), 4) share of the vertical force on each region (``PLANTAR_REGIONS`` order; rows
    sum to 1 where the foot is loaded): ``region area in each strip x contact x load sharing x
    N(x; COP, SPREAD) x exp(lam x)``, ``lam`` such that the load centroid is the COP."""
    x, area = sole.bins(n_bins)
    weight = area * np.array([1.0, ARCH_SUPPORT * p.load_midfoot, 1.0, p.load_toes])
    s = np.asarray(s, float)
    cop, pitch = cop_fraction(s, p), foot_pitch_deg(s, p)
    base = np.stack([contact_window(x, float(si), float(ci), float(pi), p)
                     for si, ci, pi in zip(s, cop, pitch, strict=True)])  # fmt: skip
    c = cop[:, None]
    line = base * np.exp(-0.5 * ((x - c) / SPREAD) ** 2)
    per_x = line * weight.sum(axis=1)
    lo, hi = np.full((len(s), 1), -300.0), np.full((len(s), 1), 300.0)
    for _ in range(50):  # bisection on the tilt: the load centroid grows with lam
        lam = 0.5 * (lo + hi)
        g = per_x * np.exp(lam * (x - c))
        low = (g * x).sum(axis=1, keepdims=True) / g.sum(axis=1, keepdims=True) < c
        lo, hi = np.where(low, lam, lo), np.where(low, hi, lam)
    g = line * np.exp(lam * (x - c))
    forces = g @ weight  # (len(s), 4)
    return forces / forces.sum(axis=1, keepdims=True)


def regional_pressure_mpa(s: np.ndarray, p: StanceParams, sole: Sole) -> dict[str, np.ndarray]:
    """Mean pressure (MPa) over each FE region at stance fractions ``s``: vertical force (N) x
    the region's share / the region's projected area (mm^2)."""
    s = np.asarray(s, float)
    fz = vertical_grf_bw(s, p) * p.body_weight_n
    out = {r: np.zeros(len(s)) for r in PLANTAR_REGIONS}
    on = fz > 0
    if on.any():
        share = region_shares(s[on], p, sole)
        areas = sole.region_areas_mm2()
        for i, r in enumerate(PLANTAR_REGIONS):
            out[r][on] = fz[on] * share[:, i] / areas[r]
    return out
