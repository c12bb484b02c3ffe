"""The experiment spec: what to learn from which inputs, and how to validate it.

Hyperparameter names and the search-space format are checked by ``footdt.learn`` (which knows
the architectures); this module only fixes the shape of the file.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from footdt.domain import DEFAULT_PEAK_STAT, PAPER_TARGET_NAMES, PHASES, STATS

Sensor = Literal["foot", "tibia"]
Axis = Literal["ax", "ay", "az"]


def _sensors() -> list[Sensor]:
    return ["foot", "tibia"]


def _axes() -> list[Axis]:
    return ["ax", "ay", "az"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Inputs(_Strict):
    sensors: list[Sensor] = Field(default_factory=_sensors)
    channels: list[Axis] = Field(default_factory=_axes)
    samples_per_phase: int = Field(100, gt=0)
    static_features: list[
        Literal["body_mass", "height", "foot_length", "speed", "contact_time", "step_time",
                "stride_time", "flight_time", "cadence"]
    ] = Field(
        default_factory=list,
        description="Side inputs: body_mass (kg), height (m), foot_length (mm), speed (m/s) from "
        "the manifest; contact_time, step_time, stride_time, flight_time (s) and cadence "
        "(steps/min) from the recording's gait events (footdt.gait.timing).",
    )  # fmt: skip
    samples: Literal["trial_mean", "stride"] = Field(
        "trial_mean",
        description="trial_mean: one sample per trial, the mean window over its strides; "
        "stride: every stride is a sample carrying its trial's labels (predictions are averaged "
        "back to the trial for evaluation).",
    )


class ModelChoice(_Strict):
    architecture: Literal["tcn", "cnn1d", "lstm", "cnn_lstm", "lstm_mlp", "lstm_attention"] = "lstm"
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    search_space: dict[str, Any] = Field(
        default_factory=dict,
        description="name: [choices] | {low, high, log?, step?}; tuned by Optuna inside each "
        "outer training fold. Empty: the hyperparameters are used as given.",
    )
    target_scaling: Literal["per_body_mass", "standard"] = Field(
        "per_body_mass",
        description="per_body_mass: the network learns label / body mass, standardised, with a "
        "zero-initialised output, so it starts from (and falls back to) the body-mass baseline; "
        "standard: labels in MPa, standardised (starts from the training mean).",
    )
    domain_adaptation: Literal["none", "transductive", "inductive"] = "none"
    domain_key: Literal["group", "subject"] = Field(
        "group",
        description="Inductive mode: the domains among training subjects (strike group or subject).",
    )


class Pruner(_Strict):
    n_startup_trials: int = Field(5, ge=0, description="Trials that are never pruned.")
    n_warmup_steps: int = Field(5, ge=0, description="Epochs of a trial that are never pruned.")


class Validation(_Strict):
    scheme: Literal["loso"] = "loso"
    inner_trials: int = Field(20, ge=1, description="Optuna trials inside each outer fold.")
    inner_folds: int = Field(
        3,
        ge=2,
        description="Grouped (by subject) folds of the training subjects for tuning and ridge alpha.",
    )
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    pruner: Pruner = Field(default_factory=Pruner)
    early_stopping_patience: int | None = Field(
        10,
        ge=1,
        description="Epochs without improvement on the early-stopping runners before training "
        "stops (the best epoch's weights are kept); null: train every epoch.",
    )
    early_stopping_fraction: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Share of each fold's training runners held out (per seed, at random) to "
        "stop training early; never the held-out runner.",
    )
    ridge_alphas: list[float] = Field(
        default_factory=lambda: [10.0**e for e in range(-3, 4)],
        min_length=1,
        description="Ridge penalties tried by inner CV (features standardised, so unitless).",
    )
    permutation_repeats: int = Field(
        5, ge=0, description="Repeats of per-sensor permutation importance."
    )
    deterministic: bool = Field(
        True, description="TensorFlow op determinism (slower, reproducible)."
    )

    @field_validator("ridge_alphas")
    @classmethod
    def _positive(cls, alphas: list[float]) -> list[float]:
        if any(a <= 0 for a in alphas):
            raise ValueError("ridge_alphas must be > 0")
        return alphas


class ExperimentSpec(_Strict):
    """An experiment spec: ML targets (``phase.bone.stat``), inputs, model and validation."""

    kind: Literal["experiment"]
    id: str
    description: str = ""
    targets: list[str] = Field(default_factory=lambda: list(PAPER_TARGET_NAMES), min_length=1)
    peak_stat: Literal["p95", "p99", "max"] = Field(
        DEFAULT_PEAK_STAT, description="Which stored statistic a 'peak' target reads."
    )
    label_backend: str | None = Field(
        None, description="Backend whose labels to learn; None: the store must hold only one."
    )
    inputs: Inputs = Field(default_factory=Inputs)
    model: ModelChoice = Field(default_factory=ModelChoice)
    validation: Validation = Field(default_factory=Validation)

    @field_validator("targets")
    @classmethod
    def _target_names(cls, targets: list[str]) -> list[str]:
        for t in targets:
            parts = t.split(".")
            if len(parts) != 3 or parts[0] not in PHASES or parts[2] not in (*STATS, "peak"):
                raise ValueError(
                    f"target {t!r} is not 'phase.bone.stat' with phase in {PHASES} "
                    f"and stat in {(*STATS, 'peak')}"
                )
        if len(set(targets)) != len(targets):
            raise ValueError("targets are listed more than once")
        return targets
