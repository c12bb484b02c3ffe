"""Draw synthetic runners and their trials from a ``CohortSpec``, reproducibly.

Runner ``i`` uses its own generator ``numpy.random.default_rng([seed, i])``, so adding runners
never changes earlier ones; the strike groups are assigned once for the whole cohort (exactly
``round(rearfoot_fraction * n)`` rearfoot strikers, placed by a permutation of the seed).

Anthropometry, strike pattern, speed, gait traits and the sensor mounting are what a runner
*is*; trials vary speed (CV ``trial_speed_cv``), strike index (+-0.02), impact peak and stance
time a little. Gait relations (units in names):

- stance time ``0.255 s x (3 / v)^0.6 x (H / 1.76)^0.3`` x individual factor (SD 5 %),
  kept within REFERENCE.md's 0.2-0.3 s;
- step frequency ``(2.75 + 0.2 (v - 3)) Hz x (1.76 / H)^0.5`` + individual offset (SD 0.08 Hz);
- rearfoot strike index U(0.08, 0.30); forefoot U(0.62, 0.80); midfoot U(0.36, 0.60).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import truncnorm

from footdt.cohort.imu import GaitParams, Mounting
from footdt.cohort.spec import CohortSpec, Normal
from footdt.cohort.stance import StanceParams

STRIKE_RANGES = {"rearfoot": (0.08, 0.30), "midfoot": (0.36, 0.60), "forefoot": (0.62, 0.80)}


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
    traits: dict[str, float]
    hidden: dict[str, float]
    mounts: tuple[Mounting, Mounting]

    @property
    def group(self) -> str:
        return "rearfoot" if self.strike_class == "rearfoot" else "non_rearfoot"


@dataclass(frozen=True)
class Trial:
    id: str
    seed: tuple[int, int, int]
    gait: GaitParams
    sensor_gain: float


def strike_classes(spec: CohortSpec) -> list[str]:
    """Strike class of every runner: exact rearfoot count, the rest forefoot/midfoot."""
    n = spec.n_runners
    n_rfs = round(spec.rearfoot_fraction * n)
    n_ffs = round(spec.forefoot_share * (n - n_rfs))
    classes = ["rearfoot"] * n_rfs + ["forefoot"] * n_ffs + ["midfoot"] * (n - n_rfs - n_ffs)
    order = np.random.default_rng([spec.seed, 2**31 - 1]).permutation(n)
    return [classes[k] for k in order]


def _rotation(rng: np.random.Generator, sd_deg: float) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(np.radians(rng.normal(0.0, sd_deg, 3))).as_matrix()


def draw_runner(spec: CohortSpec, index: int, strike_class: str) -> Runner:
    rng = np.random.default_rng([spec.seed, index])
    mass, height = draw(spec.body_mass_kg, rng), draw(spec.height_m, rng)
    length = 1000.0 * height * draw(spec.foot_length_ratio, rng)
    hid = spec.hidden
    hidden = {
        "tissue_stiffness": draw(hid.tissue_stiffness, rng),
        "fascia_stiffness": draw(hid.fascia_stiffness, rng),
        "width_ratio": draw(hid.width_ratio, rng),
        "arch_ratio": draw(hid.arch_ratio, rng),
    }
    speed = float(rng.uniform(spec.speed_m_s.low, spec.speed_m_s.high))
    rfs = strike_class == "rearfoot"
    traits = {
        "strike_index": float(rng.uniform(*STRIKE_RANGES[strike_class])),
        "stance_factor": _n(rng, 1.0, 0.05, 0.88, 1.12),
        "cadence_offset_hz": _n(rng, 0.0, 0.08, -0.2, 0.2),
        "impact_bw": _n(rng, 1.6, 0.12, 1.35, 1.95),
        "impact_at": _n(rng, 0.12, 0.012, 0.09, 0.15),
        "peak_at": _n(rng, 0.44, 0.02, 0.38, 0.5),
        "active_shape": _n(rng, 1.6, 0.1, 1.35, 1.9),
        "ap_bw": _n(rng, 0.3, 0.04, 0.2, 0.42),
        "cop_end": _n(rng, 0.88, 0.02, 0.83, 0.93),
        "pitch_ic_deg": _n(rng, 7.0, 2.0, 3.0, 12.0) if rfs else (
            _n(rng, -9.0, 3.0, -16.0, -3.0) if strike_class == "forefoot" else _n(rng, -2.0, 1.5, -5.0, -0.5)),
        "pitch_to_deg": _n(rng, -40.0, 4.0, -50.0, -30.0),
        "foot_flat_at": _n(rng, 0.32, 0.03, 0.22, 0.4) if rfs else _n(rng, 0.38, 0.04, 0.28, 0.48),
        "heel_off_at": _n(rng, 0.5, 0.03, 0.42, 0.58),
        "ankle_ic_deg": _n(rng, 3.0, 3.0, -4.0, 10.0) if rfs else _n(rng, -10.0, 3.0, -18.0, -3.0),
        "ankle_peak_deg": _n(rng, 19.0, 2.5, 13.0, 25.0),
        "ankle_to_deg": _n(rng, -18.0, 3.0, -26.0, -10.0),
        "landing_m": _n(rng, 0.27 if rfs else 0.18, 0.03, 0.1, 0.36) * height / 1.76,
        "kick_extra_m": _n(rng, 0.0, 0.02, -0.05, 0.05),
        "tibia_roll_deg": _n(rng, 12.0, 3.0, 4.0, 20.0),
        "touchdown_ratio": _n(rng, 0.5 if rfs else 0.45, 0.08, 0.25, 0.75),
        "touchdown_z_m_s": _n(rng, 0.7 if rfs else 0.5, 0.1, 0.2, 1.0),
        "arrest_x_s": _n(rng, 0.06, 0.008, 0.045, 0.08),
        "arrest_z_s": _n(rng, 0.03 if rfs else 0.035, 0.004, 0.02, 0.05),
        "sensor_gain": _n(rng, 1.0, 0.1, 0.75, 1.25),
    }  # fmt: skip
    sd_mm = spec.sensors.misplacement_mm / 1000.0
    foot_pt = np.array([0.45, 0.0, 0.20]) * length / 1000.0 + rng.normal(0, sd_mm, 3)
    tibia_pt = np.array([0.02, 0.02, 0.10 * height / 1.76]) + rng.normal(0, sd_mm, 3)
    mounts = (
        Mounting(foot_pt, _rotation(rng, spec.sensors.misplacement_deg)),
        Mounting(tibia_pt, _rotation(rng, spec.sensors.misplacement_deg)),
    )
    return Runner(index, f"R{index + 1:03d}", strike_class, mass, height, length,
                  hidden["width_ratio"] * length, hidden["arch_ratio"] * length, speed, traits,
                  hidden, mounts)  # fmt: skip


def draw_trial(spec: CohortSpec, runner: Runner, k: int) -> Trial:
    """Trial ``k`` (0-based) of a runner: its speed and small variations of the runner's gait."""
    seed = (spec.seed, runner.index, k + 1)
    rng = np.random.default_rng(list(seed))
    tr = runner.traits
    v = runner.speed_m_s * (1.0 + rng.normal(0.0, spec.trial_speed_cv))
    h = runner.height_m
    stance = float(np.clip(0.255 * (3.0 / v) ** 0.6 * (h / 1.76) ** 0.3 * tr["stance_factor"]
                           * (1 + rng.normal(0, 0.015)), 0.2, 0.3))  # fmt: skip
    f_step = (2.75 + 0.2 * (v - 3.0)) * (1.76 / h) ** 0.5 + tr["cadence_offset_hz"]
    lo, hi = STRIKE_RANGES[runner.strike_class]
    si = float(np.clip(tr["strike_index"] + rng.normal(0.0, 0.02), lo, hi))
    sp = StanceParams(
        body_mass_kg=runner.body_mass_kg, foot_length_mm=runner.foot_length_mm,
        foot_width_mm=runner.foot_width_mm, arch_height_mm=runner.arch_height_mm,
        stance_s=stance, step_s=1.0 / f_step, strike_index=si,
        impact_bw=float(np.clip(tr["impact_bw"] * (1 + rng.normal(0, 0.04)), 1.3, 2.0)),
        impact_at=tr["impact_at"], impact_width=0.03, peak_at=tr["peak_at"],
        active_shape=tr["active_shape"], ap_bw=tr["ap_bw"] * (v / 3.0),
        cop_end=tr["cop_end"], pitch_ic_deg=tr["pitch_ic_deg"], pitch_to_deg=tr["pitch_to_deg"],
        foot_flat_at=tr["foot_flat_at"], heel_off_at=tr["heel_off_at"],
        ankle_ic_deg=tr["ankle_ic_deg"] + rng.normal(0, 1.0), ankle_peak_deg=tr["ankle_peak_deg"],
        ankle_to_deg=tr["ankle_to_deg"],
    )  # fmt: skip
    gait = GaitParams(
        stance=sp, stride_s=2.0 / f_step, speed_m_s=v, height_m=h, landing_m=tr["landing_m"],
        kick_m=(0.24 + 0.05 * (v - 2.5)) * h / 1.76 + tr["kick_extra_m"],
        tibia_roll_deg=tr["tibia_roll_deg"],
        touchdown_m_s=(tr["touchdown_ratio"] * v, tr["touchdown_z_m_s"]),
        arrest_s=(tr["arrest_x_s"], tr["arrest_z_s"]),
    )  # fmt: skip
    return Trial(f"T{k + 1}", seed, gait, tr["sensor_gain"])
