"""The cohort spec (``specs/cohorts/*.yaml``): how many synthetic runners, and their distributions.

Defaults are the paper's cohort (Xiang et al. 2025; REFERENCE.md): 50 male runners, body mass
67.7 +- 9.6 kg, height 1.76 +- 0.06 m, 38 of 50 (76 %) rearfoot strikers, 3 trials each,
self-selected speed (here 2.5-3.5 m/s). Units are in each field's name or description.
Relative paths (``template``) are resolved against the spec file's directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from footdt.errors import FootdtError
from footdt.spec.fields import FilePath, Name, Seed, count, quantity

if TYPE_CHECKING:
    Number = float
    Runners = int
    Trials = int
    Strides = int
    Fraction = float
    SpeedCv = float
    RateHz = float
    BandwidthHz = float
    NoiseG = float
    RangeG = float
    MisplacementDeg = float
    MisplacementMm = float
else:
    #: A distribution parameter; its physical range is checked per field (``PHYSICAL``).
    Number = quantity("", ge=-1e6, le=1e6)
    Runners = count(ge=1, le=10000, unit="runners")
    Trials = count(ge=1, le=20, unit="trials")
    Strides = count(ge=3, le=200, unit="strides")
    Fraction = quantity("1", ge=0, le=1)
    SpeedCv = quantity("1", ge=0, le=0.2)
    RateHz = quantity("Hz", gt=20, le=2000)
    BandwidthHz = quantity("Hz", ge=1, le=1000)
    NoiseG = quantity("g", ge=0, le=10)
    RangeG = quantity("g", gt=2, le=1000)
    MisplacementDeg = quantity("degrees", ge=0, le=90)
    MisplacementMm = quantity("mm", ge=0, le=100)

#: Physical range (low, high, unit) of each distribution a cohort draws from: a distribution
#: whose bounds (or, without bounds, mean +- 4 sd) leave it is refused.
PHYSICAL: dict[str, tuple[float, float, str]] = {
    "body_mass_kg": (20.0, 300.0, "kg"),
    "height_m": (1.0, 2.5, "m"),
    "foot_length_ratio": (0.1, 0.2, "foot length / stature"),
    "speed_m_s": (0.5, 10.0, "m/s"),
    "tissue_stiffness": (0.1, 10.0, "x soft-tissue E"),
    "fascia_stiffness": (0.1, 10.0, "x fascia stiffness"),
    "width_ratio": (0.2, 0.6, "foot width / length"),
    "arch_ratio": (0.05, 0.3, "arch height / length"),
}


def _physical(value: Normal | Range, info: ValidationInfo) -> Normal | Range:
    name = str(info.field_name)
    low, high, unit = PHYSICAL[name]
    if isinstance(value, Range):
        lo, hi = value.low, value.high
    else:
        lo = value.low if value.low is not None else value.mean - 4 * value.sd
        hi = value.high if value.high is not None else value.mean + 4 * value.sd
    if lo < low or hi > high:
        raise ValueError(
            f"draws values from {lo:g} to {hi:g} ({unit}), outside the physical range "
            f"{low:g}-{high:g}: set mean/sd/low/high inside it"
        )
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Normal(_Strict):
    """A normal distribution truncated to [low, high] (sampled by inverse CDF)."""

    mean: Number
    sd: Number = Field(ge=0)
    low: Number | None = None
    high: Number | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Normal:
        lo = -float("inf") if self.low is None else self.low
        hi = float("inf") if self.high is None else self.high
        if lo >= hi:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if not lo <= self.mean <= hi:  # else every draw piles up at a bound
            raise ValueError(f"the mean ({self.mean:g}) must lie within [low, high]")
        return self


class Range(_Strict):
    """A uniform distribution on [low, high]."""

    low: Number
    high: Number

    @model_validator(mode="after")
    def _order(self) -> Range:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class Sensors(_Strict):
    """Accelerometer properties of the synthetic recordings."""

    rate_hz: RateHz = Field(100.0, description="Output sampling rate (Hz).")
    bandwidth_hz: BandwidthHz = Field(40.0, description="Sensor low-pass bandwidth (Hz).")
    noise_g: NoiseG = Field(0.03, description="White noise SD (g).")
    range_g: RangeG = Field(16.0, description="Full-scale range (g); larger values clip.")
    misplacement_deg: MisplacementDeg = Field(
        4.0, description="SD of mounting rotation (deg/axis)."
    )
    misplacement_mm: MisplacementMm = Field(8.0, description="SD of mounting offset (mm/axis).")

    @model_validator(mode="after")
    def _nyquist(self) -> Sensors:
        if self.bandwidth_hz > self.rate_hz / 2:
            raise ValueError(
                f"bandwidth_hz ({self.bandwidth_hz:g} Hz) must not exceed half of rate_hz "
                f"({self.rate_hz / 2:g} Hz)"
            )
        return self


class Hidden(_Strict):
    """Runner factors the sensors cannot see directly: they change the loads or the FE labels
    (or how the impact reaches a sensor) independently of the gait the accelerometers record."""

    tissue_stiffness: Normal = Normal(mean=1.0, sd=0.15, low=0.6, high=1.6)
    fascia_stiffness: Normal = Normal(mean=1.0, sd=0.15, low=0.6, high=1.6)
    width_ratio: Normal = Field(
        Normal(mean=0.38, sd=0.018, low=0.33, high=0.44), description="Foot width / length."
    )
    arch_ratio: Normal = Field(
        Normal(mean=0.151, sd=0.015, low=0.115, high=0.195),
        description="Navicular (arch) height / foot length.",
    )
    effective_mass_ratio: Normal = Field(
        Normal(mean=0.08, sd=0.008, low=0.06, high=0.10),
        description="Effective lower-limb mass of the impact / body mass (Clark et al. 2017: 0.08).",
    )
    achilles_moment_arm: Normal = Field(
        Normal(mean=1.0, sd=0.12, low=0.7, high=1.35),
        description="Achilles moment arm x the OpenSim model's (published CV 10-15 %).",
    )
    cocontraction: Normal = Field(
        Normal(mean=0.08, sd=0.05, low=0.0, high=0.25),
        description="Extra Achilles force from antagonist co-contraction, fraction of the net one.",
    )
    load_midfoot: Normal = Field(
        Normal(mean=1.0, sd=0.25, low=0.4, high=1.8),
        description="Share of the load the arch takes, x the cohort's mean (load sharing).",
    )
    load_toes: Normal = Field(
        Normal(mean=1.0, sd=0.2, low=0.5, high=1.6),
        description="Share of the load the toes take vs the forefoot, x the cohort's mean.",
    )
    tissue_coupling_hz: Normal = Field(
        Normal(mean=30.0, sd=5.0, low=18.0, high=45.0),
        description="Natural frequency of the soft tissue under the sensors (wobbling mass, Hz).",
    )
    tissue_damping: Normal = Field(
        Normal(mean=0.4, sd=0.1, low=0.2, high=0.7),
        description="Damping ratio of that soft tissue.",
    )
    impact_coupling_tibia: Normal = Field(
        Normal(mean=0.55, sd=0.1, low=0.3, high=0.85),
        description="Share of the lower limb's impact deceleration the tibia sensor feels.",
    )
    impact_coupling_foot: Normal = Field(
        Normal(mean=0.75, sd=0.07, low=0.5, high=1.0),
        description="Share of the lower limb's impact deceleration the foot sensor feels.",
    )

    _physical = field_validator(
        "tissue_stiffness", "fascia_stiffness", "width_ratio", "arch_ratio"
    )(_physical)


class CohortSpec(_Strict):
    """A synthetic cohort: N runners x trials, drawn reproducibly from ``seed``."""

    kind: Literal["cohort"] = "cohort"
    id: Name = Field("cohort")
    description: str = ""
    seed: Seed = Field(0, description="Every file follows from it: same seed, same bytes.")
    n_runners: Runners = Field(50)
    trials: Trials = Field(3, description="Trials per runner.")
    strides_per_trial: Strides = Field(10, description="Strides per IMU recording.")
    rearfoot_fraction: Fraction = Field(0.76)
    forefoot_share: Fraction = Field(
        0.6, description="Share of forefoot (vs midfoot) strikers among non-rearfoot."
    )
    body_mass_kg: Normal = Normal(mean=67.7, sd=9.6, low=45.0, high=110.0)
    height_m: Normal = Normal(mean=1.76, sd=0.06, low=1.55, high=2.0)
    foot_length_ratio: Normal = Field(
        Normal(mean=0.15, sd=0.004, low=0.135, high=0.165), description="Foot length / stature."
    )
    speed_m_s: Range = Field(Range(low=2.5, high=3.5), description="Preferred speed (m/s).")
    trial_speed_cv: SpeedCv = Field(0.03, description="Trial-to-trial speed CV.")
    sensors: Sensors = Sensors()
    hidden: Hidden = Hidden()
    foot_model: Literal["personalised", "template"] = Field(
        "personalised",
        description="personalised: the template's mesh morphed (SSM + FFD) to each runner's foot "
        "length, width and arch height (shared topology, no re-meshing); template: the parametric "
        "template re-meshed for each runner.",
    )
    template: FilePath | None = Field(
        None,
        description="Subject spec template that each trial's spec copies, relative to this file; "
        "default specs/subjects/template.yaml (relative to the working directory).",
    )

    _physical = field_validator("body_mass_kg", "height_m", "foot_length_ratio", "speed_m_s")(
        _physical
    )


#: Coarsest element size (mm) of a cohort's foot models (``footdt demo --size``, ``footdt cohort
#: generate --size``): coarser, and the bones are a few elements across.
MAX_SIZE_MM = 12.0


def check_size(size: float, error: type[FootdtError] = FootdtError) -> None:
    """A one-line ``error`` unless ``size`` (mm, a ``--size`` option) is in (0, MAX_SIZE_MM]."""
    if not 0 < size <= MAX_SIZE_MM:  # NaN fails too
        raise error(
            f"--size {size:g}: element size must be in (0, {MAX_SIZE_MM:g}] mm "
            "(the paper uses 3 mm; 5 mm is the demo's default)"
        )


def load_cohort_spec(path: str | Path) -> CohortSpec:
    """Read and validate a cohort spec; errors read ``file:line: field: message``.

    A relative ``template`` comes back resolved against the spec file's directory."""
    from footdt.errors import excerpt
    from footdt.spec.loader import read_data, validate_model

    p = Path(path)
    data, source = read_data(p)
    kind = data.get("kind", "cohort")
    if kind != "cohort":
        raise source.error(("kind",), f"expected kind 'cohort', got {excerpt(kind)}")
    spec = validate_model(CohortSpec, data, source, kind="cohort spec")
    if spec.template is not None and not spec.template.is_absolute():
        spec = spec.model_copy(update={"template": (p.parent / spec.template).resolve()})
    return spec
