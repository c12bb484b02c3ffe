"""The cohort spec (``specs/cohorts/*.yaml``): how many synthetic runners, and their distributions.

Defaults are the paper's cohort (Xiang et al. 2025; REFERENCE.md): 50 male runners, body mass
67.7 +- 9.6 kg, height 1.76 +- 0.06 m, 38 of 50 (76 %) rearfoot strikers, 3 trials each,
self-selected speed (here 2.5-3.5 m/s). Units are in each field's name or description.
Relative paths (``template``) are resolved against the spec file's directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from footdt.errors import SpecError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Normal(_Strict):
    """A normal distribution truncated to [low, high] (sampled by inverse CDF)."""

    mean: float
    sd: float = Field(ge=0)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Normal:
        lo = -float("inf") if self.low is None else self.low
        hi = float("inf") if self.high is None else self.high
        if lo >= hi:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.sd == 0 and not lo <= self.mean <= hi:
            raise ValueError("with sd 0 the mean must lie within [low, high]")
        return self


class Range(_Strict):
    """A uniform distribution on [low, high]."""

    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Range:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class Sensors(_Strict):
    """Accelerometer properties of the synthetic recordings."""

    rate_hz: float = Field(100.0, gt=20, le=2000, description="Output sampling rate (Hz).")
    bandwidth_hz: float = Field(40.0, gt=0, description="Sensor low-pass bandwidth (Hz).")
    noise_g: float = Field(0.03, ge=0, description="White noise SD (g).")
    range_g: float = Field(16.0, gt=2, description="Full-scale range (g); larger values clip.")
    misplacement_deg: float = Field(4.0, ge=0, description="SD of mounting rotation (deg/axis).")
    misplacement_mm: float = Field(8.0, ge=0, description="SD of mounting offset (mm/axis).")


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


class CohortSpec(_Strict):
    """A synthetic cohort: N runners x trials, drawn reproducibly from ``seed``."""

    kind: Literal["cohort"] = "cohort"
    id: str = Field("cohort", min_length=1)
    description: str = ""
    seed: int = Field(0, ge=0, description="Every file follows from it: same seed, same bytes.")
    n_runners: int = Field(50, ge=1, le=10000)
    trials: int = Field(3, ge=1, le=20, description="Trials per runner.")
    strides_per_trial: int = Field(10, ge=3, le=200, description="Strides per IMU recording.")
    rearfoot_fraction: float = Field(0.76, ge=0, le=1)
    forefoot_share: float = Field(
        0.6, ge=0, le=1, description="Share of forefoot (vs midfoot) strikers among non-rearfoot."
    )
    body_mass_kg: Normal = Normal(mean=67.7, sd=9.6, low=45.0, high=110.0)
    height_m: Normal = Normal(mean=1.76, sd=0.06, low=1.55, high=2.0)
    foot_length_ratio: Normal = Field(
        Normal(mean=0.15, sd=0.004, low=0.135, high=0.165), description="Foot length / stature."
    )
    speed_m_s: Range = Field(Range(low=2.5, high=3.5), description="Preferred speed (m/s).")
    trial_speed_cv: float = Field(0.03, ge=0, le=0.2, description="Trial-to-trial speed CV.")
    sensors: Sensors = Sensors()
    hidden: Hidden = Hidden()
    foot_model: Literal["personalised", "template"] = Field(
        "personalised",
        description="personalised: the template's mesh morphed (SSM + FFD) to each runner's foot "
        "length, width and arch height (shared topology, no re-meshing); template: the parametric "
        "template re-meshed for each runner.",
    )
    template: Path | None = Field(
        None,
        description="Subject spec template that each trial's spec copies, relative to this file; "
        "default specs/subjects/template.yaml (relative to the working directory).",
    )


def load_cohort_spec(path: str | Path) -> CohortSpec:
    """Read and validate a cohort spec; errors read ``file:line: field: message``.

    A relative ``template`` comes back resolved against the spec file's directory."""
    from footdt.spec.loader import read_data

    p = Path(path)
    data, source = read_data(p)
    kind = data.get("kind", "cohort")
    if kind != "cohort":
        raise source.error(("kind",), f"expected kind 'cohort', got {kind!r}")
    try:
        spec = CohortSpec.model_validate(data)
    except ValidationError as exc:
        msgs = []
        for err in exc.errors():
            loc: tuple[Any, ...] = tuple(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see docs/cohort.md)"
            msgs.append(str(source.error(loc, msg)))
        raise SpecError("\n".join(msgs)) from None
    if spec.template is not None and not spec.template.is_absolute():
        spec = spec.model_copy(update={"template": (p.parent / spec.template).resolve()})
    return spec
