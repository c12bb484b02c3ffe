"""Draw synthetic runners and their trials from a ``CohortSpec``, reproducibly.

Runner ``i`` uses its own generator ``numpy.random.default_rng([seed, i])``, so adding runners
never changes earlier ones; the strike groups are assigned once for the whole cohort (exactly
``round(rearfoot_fraction * n)`` rearfoot strikers, placed by a permutation of the seed).
Trial ``k`` of runner ``i`` draws from ``default_rng([seed, i, k + 1])``.

A runner is anthropometry, a strike class, a preferred speed, a mean gait
(``footdt.cohort.state.RunnerGait``), the sensor mounting and the **hidden** factors
(``CohortSpec.hidden``): soft-tissue and fascia stiffness, foot width and arch, the effective
lower-limb mass of the impact, the Achilles moment arm and co-contraction, the load sharing of
arch and toes, and the soft-tissue coupling of the sensors. A trial is a speed and small trial
offsets; its strides come from ``state.stride_states``.

Mean gait (at 3 m/s; units in names): rearfoot strikers land with the foot 8 +- 2.5 deg toes-up,
midfoot strikers 0 +- 1.2, forefoot strikers -8 +- 3 (Altman & Davis 2012: rearfoot > 8 deg,
forefoot < -1.6 deg at contact); the lower limb's effective touchdown velocity 2.4 +- 0.3 m/s
(forefoot 1.8, midfoot 2.0) and its arrest time 23 +- 3.5 ms (forefoot 36, midfoot 28: the
ankle yields); contact-time factor SD 5 %, cadence offset SD 0.08 Hz; braking impulse
0.025 +- 0.004 BW s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation
from scipy.stats import truncnorm

from footdt.cohort.imu import Mounting
from footdt.cohort.spec import CohortSpec, Normal
from footdt.cohort.state import STRIDE_SD, GaitState, RunnerGait, stride_states
from footdt.domain import (
    FOOT_SENSOR,
    FOREFOOT_STRIKE,
    MIDFOOT_STRIKE,
    NON_REARFOOT,
    REARFOOT_STRIKE,
    TIBIA_SENSOR,
)

STRIKE_RANGES = {
    REARFOOT_STRIKE: (0.08, 0.30),
    MIDFOOT_STRIKE: (0.36, 0.60),
    FOREFOOT_STRIKE: (0.62, 0.80),
}


def draw(dist: Normal, rng: np.random.Generator) -> float:
    """One value of a truncated normal (inverse CDF; one uniform draw)."""
    if dist.sd == 0:
        return dist.mean
    lo = -np.inf if dist.low is None else (dist.low - dist.mean) / dist.sd
    hi = np.inf if dist.high is None else (dist.high - dist.mean) / dist.sd
    return float(truncnorm.ppf(rng.uniform(), lo, hi, loc=dist.mean, scale=dist.sd))


def _n(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    return draw(Normal(mean=mean, sd=sd, low=lo, high=hi), rng)


@dataclass(frozen=True)
class Runner:
    """One synthetic runner: what the sensors see (size, gait) and what they cannot (hidden)."""

    index: int
    id: str
    strike_class: str
    body_mass_kg: float
    height_m: float
    foot_length_mm: float
    foot_width_mm: float
    arch_height_mm: float
    speed_m_s: float
    gait: RunnerGait
    hidden: dict[str, float]
    mounts: tuple[Mounting, Mounting]

    @property
    def group(self) -> str:
        return REARFOOT_STRIKE if self.strike_class == REARFOOT_STRIKE else NON_REARFOOT


@dataclass(frozen=True)
class Trial:
    id: str
    seed: tuple[int, int, int]
    speed_m_s: float
    offsets: dict[str, float]


def strike_classes(spec: CohortSpec) -> list[str]:
    """Strike class of every runner: exact rearfoot count, the rest forefoot/midfoot."""
    n = spec.n_runners
    n_rfs = round(spec.rearfoot_fraction * n)
    n_ffs = round(spec.forefoot_share * (n - n_rfs))
    classes = (
        [REARFOOT_STRIKE] * n_rfs
        + [FOREFOOT_STRIKE] * n_ffs
        + [MIDFOOT_STRIKE] * (n - n_rfs - n_ffs)
    )
    order = np.random.default_rng([spec.seed, 2**31 - 1]).permutation(n)
    return [classes[k] for k in order]


def _mount(rng: np.random.Generator, point: np.ndarray, sd_m: float, sd_deg: float) -> tuple[Mounting, np.ndarray, np.ndarray]:  # fmt: skip
    offset = rng.normal(0, sd_m, 3)
    rotvec = np.radians(rng.normal(0.0, sd_deg, 3))
    return Mounting(point + offset, Rotation.from_rotvec(rotvec).as_matrix()), offset, rotvec


def draw_runner(spec: CohortSpec, index: int, strike_class: str) -> Runner:
    rng = np.random.default_rng([spec.seed, index])
    mass, height = draw(spec.body_mass_kg, rng), draw(spec.height_m, rng)
    length = 1000.0 * height * draw(spec.foot_length_ratio, rng)
    hid = spec.hidden
    hidden = {name: draw(getattr(hid, name), rng) for name in type(hid).model_fields}
    speed = float(rng.uniform(spec.speed_m_s.low, spec.speed_m_s.high))
    rfs, ffs = strike_class == REARFOOT_STRIKE, strike_class == FOREFOOT_STRIKE
    angle = {REARFOOT_STRIKE: (8.0, 2.5, 3.0, 15.0), MIDFOOT_STRIKE: (0.0, 1.2, -3.0, 2.5),
             FOREFOOT_STRIKE: (-8.0, 3.0, -15.0, -4.0)}[strike_class]  # fmt: skip
    td = 2.4 if rfs else (1.8 if ffs else 2.0)
    ta = 0.023 if rfs else (0.036 if ffs else 0.028)
    variability = float(np.exp(rng.normal(0.0, 0.2)))
    gait = RunnerGait(
        strike_class=strike_class,
        height_m=height,
        preferred_speed_m_s=speed,
        cadence_offset_hz=_n(rng, 0.0, 0.08, -0.2, 0.2),
        contact_factor=_n(rng, 1.0, 0.05, 0.88, 1.12),
        foot_angle_ic_deg=_n(rng, *angle),
        touchdown_v_m_s=_n(rng, td, 0.3, td - 0.75, td + 0.75),
        arrest_s=_n(rng, ta, 0.0035, ta - 0.008, ta + 0.008),
        touchdown_ratio=_n(rng, 0.5 if rfs else 0.45, 0.08, 0.25, 0.75),
        arrest_x_s=_n(rng, 0.06, 0.008, 0.045, 0.08),
        shank_ic_deg=_n(rng, -5.0, 2.5, -11.0, 1.0) if rfs else _n(rng, -2.0, 2.5, -8.0, 4.0),
        ankle_peak_deg=_n(rng, 19.0, 2.5, 13.0, 25.0),
        ankle_to_deg=_n(rng, -18.0, 3.0, -26.0, -10.0),
        foot_flat_frac=_n(rng, 0.32, 0.03, 0.22, 0.4) if rfs else _n(rng, 0.38, 0.04, 0.28, 0.48),
        heel_off_frac=_n(rng, 0.5, 0.03, 0.42, 0.58),
        toe_off_pitch_deg=_n(rng, -40.0, 4.0, -50.0, -30.0),
        braking_impulse_bw_s=_n(rng, 0.025, 0.004, 0.015, 0.035),
        active_peak_frac=_n(rng, 0.44, 0.02, 0.38, 0.5),
        active_shape=_n(rng, 1.5, 0.1, 1.25, 1.8),
        cop_end_frac=float(
            np.clip(
                _n(rng, 0.88, 0.015, 0.84, 0.92) + 0.04 * (hidden["load_toes"] - 1.0), 0.82, 0.95
            )
        ),
        landing_m=_n(rng, 0.27 if rfs else 0.18, 0.03, 0.1, 0.36) * height / 1.76,
        kick_extra_m=_n(rng, 0.0, 0.02, -0.05, 0.05),
        cv={k: variability for k in STRIDE_SD},
    )
    hidden["tibia_roll_deg"] = _n(rng, 12.0, 3.0, 4.0, 20.0)
    hidden["stride_variability"] = variability
    sd_m, sd_deg = spec.sensors.misplacement_mm / 1000.0, spec.sensors.misplacement_deg
    foot, foot_off, foot_rot = _mount(rng, np.array([0.45, 0.0, 0.20]) * length / 1000.0, sd_m, sd_deg)  # fmt: skip
    tibia, tib_off, tib_rot = _mount(rng, np.array([0.02, 0.02, 0.10 * height / 1.76]), sd_m, sd_deg)  # fmt: skip
    for name, off, rot in ((FOOT_SENSOR, foot_off, foot_rot), (TIBIA_SENSOR, tib_off, tib_rot)):
        for ax, o, r in zip("xyz", off, rot, strict=True):
            hidden[f"mount_{name}_{ax}_mm"] = float(1000.0 * o)
            hidden[f"mount_{name}_rot_{ax}_deg"] = float(np.degrees(r))
    return Runner(index, f"R{index + 1:03d}", strike_class, mass, height, length,
                  hidden["width_ratio"] * length, hidden["arch_ratio"] * length, speed, gait,
                  hidden, (foot, tibia))  # fmt: skip


def draw_trial(spec: CohortSpec, runner: Runner, k: int) -> Trial:
    """Trial ``k`` (0-based) of a runner: its speed and small trial offsets of the gait."""
    seed = (spec.seed, runner.index, k + 1)
    rng = np.random.default_rng(list(seed))
    v = runner.speed_m_s * (1.0 + rng.normal(0.0, spec.trial_speed_cv))
    offsets = {"foot_angle_ic_deg": float(rng.normal(0.0, 1.0)),
               "touchdown_v_m_s": float(rng.normal(0.0, 0.03)),
               "contact_s": float(rng.normal(0.0, 0.015))}  # fmt: skip
    return Trial(f"T{k + 1}", seed, float(v), offsets)


def trial_strides(runner: Runner, trial: Trial, n: int) -> list[GaitState]:
    """The ``n`` strides of a trial's recording (generator ``[*trial.seed, 5]``)."""
    rng = np.random.default_rng([*trial.seed, 5])
    return stride_states(runner.gait, trial.speed_m_s, n, rng, trial.offsets)
