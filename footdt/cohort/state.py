"""One gait state per stride: what a runner does on each stride, behind both its loads and its
accelerations.

Three levels (``footdt.cohort.runners`` draws the first two):

1. **Runner**: mean gait at the reference speed 3 m/s (``RunnerGait``): cadence and contact-time
   factors, foot-ground angle at contact, touchdown velocity and arrest time of the lower limb,
   ankle angles, heel-off timing, braking impulse, shape of the active force.
2. **Trial**: the speed (the runner's preferred speed x (1 + N(0, trial_speed_cv))) moves every
   mean by the speed relations below, plus small trial offsets (foot angle, touchdown).
3. **Stride**: every varying quantity wanders around the trial's mean as an AR(1) series
   (``x_k = rho x_(k-1) + sqrt(1 - rho^2) e_k``, ``rho = STRIDE_RHO``): neighbouring strides
   resemble each other, as in real running, whose stride times are correlated over many strides.

Speed relations (v in m/s, H stature in m; units in the names):

- step frequency ``(2.75 + 0.2 (v - 3)) Hz x (1.76 / H)^0.5`` + the runner's offset;
- contact time ``0.255 s x (3 / v)^0.6 x (H / 1.76)^0.3`` x the runner's factor (RBDS001:
  0.290 s at 2.5 m/s and 0.237 s at 3.5 m/s: x0.82, the relation gives x0.82);
- flight time = step time - contact time (the stride's aerial phase);
- touchdown velocity of the lower limb ``x (v / 3)^0.3``, arrest time ``x (3 / v)^0.2``: the
  impact grows with speed;
- peak ankle dorsiflexion +1.5 deg per m/s; braking impulse ``x v / 3``.

The strike index (centre of pressure at contact / foot length) follows from the foot-ground
angle at contact within the runner's strike class (``strike_index``): a steeper heel landing
touches down further back on the heel's curve.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from footdt.domain import FOREFOOT_STRIKE, MIDFOOT_STRIKE, REARFOOT_STRIKE

REF_SPEED = 3.0
#: Stride-to-stride autocorrelation of every varying quantity (lag one stride).
STRIDE_RHO = 0.5
#: Strike classes: (lowest, highest) strike index and foot-ground angle at contact (deg, toes up +).
STRIKE_INDEX = {
    REARFOOT_STRIKE: (0.08, 0.30),
    MIDFOOT_STRIKE: (0.36, 0.60),
    FOREFOOT_STRIKE: (0.62, 0.80),
}
FOOT_ANGLE = {
    REARFOOT_STRIKE: (3.0, 16.0),
    MIDFOOT_STRIKE: (-3.5, 3.0),
    FOREFOOT_STRIKE: (-16.0, -3.5),
}


@dataclass(frozen=True)
class GaitState:
    """One stride's gait (units in the names; fractions are of stance time)."""

    speed_m_s: float
    step_s: float
    stride_s: float
    contact_s: float
    flight_s: float
    foot_angle_ic_deg: float
    strike_index: float
    touchdown_v_m_s: float  # downward velocity of the lower limb at contact
    arrest_s: float  # time to the peak of its deceleration (the impact lasts twice that)
    touchdown_vx_m_s: float  # forward velocity of the foot over the ground at contact
    arrest_x_s: float
    ankle_ic_deg: float  # dorsiflexion +
    ankle_peak_deg: float  # peak dorsiflexion (at heel-off)
    ankle_to_deg: float
    foot_flat_frac: float
    heel_off_frac: float
    toe_off_pitch_deg: float
    braking_impulse_bw_s: float
    propulsive_impulse_bw_s: float
    active_peak_frac: float  # when the active (body-mass) force peaks
    active_shape: float  # exponent of its bell: higher is narrower
    cop_end_frac: float  # centre of pressure at toe-off, fraction of foot length
    landing_m: float  # ankle ahead of the hip at contact
    kick_m: float  # highest ankle height in swing

    @property
    def cadence_spm(self) -> float:
        return 60.0 / self.step_s

    @property
    def rearfoot(self) -> bool:
        return self.strike_index <= 1.0 / 3.0

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class RunnerGait:
    """A runner's mean gait at ``REF_SPEED`` and what it scales with (see the module docstring)."""

    strike_class: str
    height_m: float
    preferred_speed_m_s: float
    cadence_offset_hz: float
    contact_factor: float
    foot_angle_ic_deg: float
    touchdown_v_m_s: float
    arrest_s: float
    touchdown_ratio: float  # forward touchdown velocity / speed
    arrest_x_s: float
    shank_ic_deg: float  # shank lean at contact (deg, knee ahead of ankle +)
    ankle_peak_deg: float
    ankle_to_deg: float
    foot_flat_frac: float
    heel_off_frac: float
    toe_off_pitch_deg: float
    braking_impulse_bw_s: float
    active_peak_frac: float
    active_shape: float
    cop_end_frac: float
    landing_m: float
    kick_extra_m: float
    #: stride-to-stride SDs: relative (CV) for times, velocities and impulses; absolute for angles
    #: (deg) and fractions
    cv: dict[str, float]


#: Stride-to-stride variation (CV for positive quantities, SD in deg or stance fraction for the
#: others), checked against RBDS001 and Alcantara 2022 by benchmarks/calibrate_cohort.py.
STRIDE_SD = {
    "speed_m_s": 0.004, "step_s": 0.015, "contact_s": 0.018, "touchdown_v_m_s": 0.08,
    "arrest_s": 0.08, "touchdown_vx_m_s": 0.06, "foot_angle_ic_deg": 1.2, "ankle_peak_deg": 0.8,
    "heel_off_frac": 0.012, "braking_impulse_bw_s": 0.05, "active_peak_frac": 0.012,
    "active_shape": 0.05, "landing_m": 0.008,
}  # fmt: skip


def strike_index(strike_class: str, foot_angle_deg: float) -> float:
    """Strike index from the foot-ground angle at contact, linear within the class's ranges."""
    (a0, a1), (s0, s1) = FOOT_ANGLE[strike_class], STRIKE_INDEX[strike_class]
    u = float(np.clip((foot_angle_deg - a0) / (a1 - a0), 0.0, 1.0))
    return s1 + (s0 - s1) * u  # the steeper the angle (toes up), the further back


def mean_state(r: RunnerGait, v: float, offsets: dict[str, float] | None = None) -> GaitState:
    """The runner's mean stride at speed ``v`` (m/s), with trial ``offsets`` (same keys as
    ``STRIDE_SD``: relative for positive quantities, absolute for angles and fractions)."""
    o = {k: 0.0 for k in STRIDE_SD} | (offsets or {})
    h = r.height_m
    v = v * (1.0 + o["speed_m_s"])
    f_step = (2.75 + 0.2 * (v - REF_SPEED)) * (1.76 / h) ** 0.5 + r.cadence_offset_hz
    step = (1.0 / f_step) * (1.0 + o["step_s"])
    contact = 0.255 * (REF_SPEED / v) ** 0.6 * (h / 1.76) ** 0.3 * r.contact_factor * (1.0 + o["contact_s"])  # fmt: skip
    contact = float(np.clip(contact, 0.17, step - 0.04))
    lo, hi = FOOT_ANGLE[r.strike_class]
    angle = float(np.clip(r.foot_angle_ic_deg + o["foot_angle_ic_deg"], lo, hi))
    braking = r.braking_impulse_bw_s * v / REF_SPEED * (1.0 + o["braking_impulse_bw_s"])
    return GaitState(
        speed_m_s=v, step_s=step, stride_s=2.0 * step, contact_s=contact, flight_s=step - contact,
        foot_angle_ic_deg=angle, strike_index=strike_index(r.strike_class, angle),
        touchdown_v_m_s=r.touchdown_v_m_s * (v / REF_SPEED) ** 0.3 * (1.0 + o["touchdown_v_m_s"]),
        arrest_s=r.arrest_s * (REF_SPEED / v) ** 0.2 * (1.0 + o["arrest_s"]),
        touchdown_vx_m_s=r.touchdown_ratio * v * (1.0 + o["touchdown_vx_m_s"]),
        arrest_x_s=r.arrest_x_s,
        ankle_ic_deg=r.shank_ic_deg + angle,
        ankle_peak_deg=r.ankle_peak_deg + 1.5 * (v - REF_SPEED) + o["ankle_peak_deg"],
        ankle_to_deg=r.ankle_to_deg,
        foot_flat_frac=r.foot_flat_frac,
        heel_off_frac=float(np.clip(r.heel_off_frac + o["heel_off_frac"], 0.38, 0.65)),
        toe_off_pitch_deg=r.toe_off_pitch_deg,
        braking_impulse_bw_s=braking, propulsive_impulse_bw_s=braking,
        active_peak_frac=float(np.clip(r.active_peak_frac + o["active_peak_frac"], 0.34, 0.52)),
        active_shape=r.active_shape * (1.0 + o["active_shape"]),
        cop_end_frac=r.cop_end_frac,
        landing_m=r.landing_m + o["landing_m"],
        kick_m=(0.24 + 0.05 * (v - 2.5)) * h / 1.76 + r.kick_extra_m,
    )  # fmt: skip


def stride_states(
    r: RunnerGait, v: float, n: int, rng: np.random.Generator, trial: dict[str, float] | None = None
) -> list[GaitState]:
    """``n`` consecutive strides at speed ``v``: AR(1) deviations (``STRIDE_RHO``) of SD
    ``STRIDE_SD`` around the trial's mean (trial ``offsets`` added)."""
    keys = list(STRIDE_SD)
    e = rng.standard_normal((n, len(keys)))
    x = np.zeros_like(e)
    x[0] = e[0]
    a = np.sqrt(1.0 - STRIDE_RHO**2)
    for k in range(1, n):
        x[k] = STRIDE_RHO * x[k - 1] + a * e[k]
    sd = np.array([STRIDE_SD[k] * r.cv.get(k, 1.0) for k in keys])
    base = trial or {}
    # contact time follows step time in part (a longer step, a longer contact: r ~ 0.5)
    out = []
    for row in x * sd:
        o = dict(zip(keys, row, strict=True))
        o["contact_s"] += 0.5 * o["step_s"]
        out.append(mean_state(r, v, {k: base.get(k, 0.0) + o[k] for k in keys}))
    return out
