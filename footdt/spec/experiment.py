"""The experiment spec: what to learn from which inputs, and how to validate it.

Hyperparameters and the search space are checked here against ``HYPERPARAMETERS`` (name, kind
and physical range; ``footdt.learn.architectures.DEFAULTS`` holds the same names with their
defaults), so a bad value is refused by ``footdt validate`` rather than after an hour of training.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from footdt.domain import (
    BONES,
    DEFAULT_PEAK_STAT,
    PAPER_TARGET_NAMES,
    PHASES,
    SOFT_TISSUE,
    TARGET_KINDS,
    ChannelAxis,
    PeakStat,
    Sensor,
)
from footdt.errors import excerpt
from footdt.spec.fields import Name, Seed, check_number, count, describe, quantity

if TYPE_CHECKING:
    SamplesPerPhase = int
    Trials = int
    Folds = int
    Repeats = int
    PrunerCount = int
    RidgeAlpha = float
else:
    SamplesPerPhase = count(ge=1, le=10000, unit="samples")
    Trials = count(ge=1, le=100000, unit="trials")
    Folds = count(ge=2, le=1000, unit="folds")
    Repeats = count(ge=0, le=10000, unit="repeats")
    PrunerCount = count(ge=0, le=100000)
    RidgeAlpha = quantity("1", gt=0, le=1e12)


@dataclass(frozen=True)
class HyperparameterRange:
    """What a hyperparameter means, whether it is a whole number, and its allowed range."""

    meaning: str
    integer: bool
    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def check(self, name: str, value: Any) -> Any:
        """The value (an int for whole-number hyperparameters) or ``ValueError``."""
        bounds: dict[str, float] = {
            ("gt" if self.low_open else "ge"): self.low,
            ("lt" if self.high_open else "le"): self.high,
        }
        try:
            checked = check_number(value, "", integer=self.integer, **bounds)
        except ValueError as exc:
            raise ValueError(f"{name}: {self.meaning} {exc}") from None
        return checked if self.integer else value  # a float keeps its spelling (and the hash)


#: Every hyperparameter an architecture understands, with its physical or practical range.
HYPERPARAMETERS: dict[str, HyperparameterRange] = {
    "epochs": HyperparameterRange("passes over the training rows", True, 1, 10000),
    "batch_size": HyperparameterRange("rows per gradient step", True, 1, 65536),
    "learning_rate": HyperparameterRange("Adam step size", False, 1e-8, 1),
    "weight_decay": HyperparameterRange("AdamW decoupled weight decay", False, 0, 1),
    "pool": HyperparameterRange("time-axis pooling factor, samples", True, 1, 100),
    "units": HyperparameterRange("LSTM units", True, 1, 4096),
    "filters": HyperparameterRange("convolution filters", True, 1, 4096),
    "kernel_size": HyperparameterRange("convolution kernel length, samples", True, 1, 300),
    "levels": HyperparameterRange("TCN residual blocks", True, 1, 12),
    "dense_units": HyperparameterRange("units of the regression head", True, 1, 4096),
    "attention_units": HyperparameterRange("attention layer units", True, 1, 4096),
    "dropout": HyperparameterRange("fraction of units dropped", False, 0, 1, high_open=True),
    "da_weight": HyperparameterRange("domain-classifier loss weight", False, 0, 100),
}


def _known(name: Any) -> HyperparameterRange:
    if not isinstance(name, str) or name not in HYPERPARAMETERS:
        import difflib

        close = difflib.get_close_matches(str(name), list(HYPERPARAMETERS), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        known = ", ".join(HYPERPARAMETERS)
        if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_]{1,40}", name):
            raise ValueError(f"{name}: unknown hyperparameter; {hint}known: {known}")
        raise ValueError(f"unknown hyperparameter {excerpt(name)}; {hint}known: {known}")
    return HYPERPARAMETERS[name]


def _check_search_entry(name: str, rng: Any) -> Any:
    spec = _known(name)
    if isinstance(rng, list):
        if not rng or len(rng) > 1000:
            raise ValueError(f"{name}: give between 1 and 1000 choices, got {len(rng)}")
        choices = [spec.check(name, v) for v in rng]
        if len(set(choices)) < len(choices):
            raise ValueError(f"{name}: a choice is listed twice (it would be drawn twice as often)")
        return choices
    if not isinstance(rng, dict):
        raise ValueError(
            f"{name}: use [choices] or {{low, high[, log, step]}}, got {describe(rng)}"
        )
    extra = sorted(str(k) for k in set(rng) - {"low", "high", "log", "step"})
    if extra or "low" not in rng or "high" not in rng:
        what = f"unknown key(s) {excerpt(extra)}" if extra else "low and high are both needed"
        raise ValueError(f"{name}: {what}; use {{low, high[, log, step]}}")
    low, high = spec.check(f"{name}.low", rng["low"]), spec.check(f"{name}.high", rng["high"])
    if low > high:
        raise ValueError(f"{name}: low ({low:g}) must not exceed high ({high:g})")
    log = rng.get("log", False)
    if not isinstance(log, bool):
        raise ValueError(f"{name}.log: must be true or false, got {describe(log)}")
    if log and low <= 0:
        raise ValueError(f"{name}: a log range needs low > 0, got {low:g}")
    if log and spec.integer:
        raise ValueError(
            f"{name}: a whole-number hyperparameter cannot take a log range; list choices"
        )
    out: dict[str, Any] = {"low": low, "high": high}
    if "log" in rng:
        out["log"] = log
    if "step" in rng:
        if log:
            raise ValueError(f"{name}: step and log cannot be combined; drop one")
        try:
            out["step"] = check_number(
                rng["step"], "", gt=0, le=(high - low) if high > low else None, integer=spec.integer
            )
        except ValueError as exc:
            raise ValueError(f"{name}.step: {exc}") from None
    return out


Axis = ChannelAxis


def _sensors() -> list[Sensor]:
    return list(get_args(Sensor))


def _axes() -> list[Axis]:
    return list(get_args(ChannelAxis))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Inputs(_Strict):
    sensors: list[Sensor] = Field(default_factory=_sensors, min_length=1)
    channels: list[Axis] = Field(default_factory=_axes, min_length=1)
    samples_per_phase: SamplesPerPhase = Field(100, description="Resampled points per phase.")
    static_features: list[
        Literal["body_mass", "height", "foot_length", "speed", "contact_time", "step_time",
                "stride_time", "flight_time", "cadence", "imu_summary"]
    ] = Field(
        default_factory=list,
        description="Side inputs: body_mass (kg), height (m), foot_length (mm), speed (m/s) from "
        "the manifest; contact_time, step_time, stride_time, flight_time (s) and cadence "
        "(steps/min) from the recording's gait events (footdt.gait.timing); imu_summary: the "
        "IMU summary features of each stride (footdt.learn.features: peaks, loading rates, "
        "stance time), one input each, named imu.<feature>.",
    )  # fmt: skip
    samples: Literal["trial_mean", "stride"] = Field(
        "trial_mean",
        description="trial_mean: one sample per trial, the mean window over its strides; "
        "stride: every stride is a sample carrying its trial's labels (predictions are averaged "
        "back to the trial for evaluation).",
    )

    @field_validator("sensors", "channels", "static_features")
    @classmethod
    def _no_repeats(cls, names: list[str]) -> list[str]:
        _refuse_repeats(names, "listed more than once")
        return names


class ModelChoice(_Strict):
    architecture: Literal["tcn", "cnn1d", "lstm", "cnn_lstm", "lstm_mlp", "lstm_attention"] = "lstm"
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict,
        description="name: value; names and ranges in footdt.spec.experiment.HYPERPARAMETERS.",
    )
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
    readout: Literal["none", "ridge"] = Field(
        "none",
        description="ridge: the network's output is a fixed linear read-out of the static inputs "
        "(ridge regression on the training runners, penalty per target by subject-grouped inner "
        "CV) plus the network, whose zero-initialised output learns the residual; an untrained "
        "network is then the ridge read-out instead of the body-mass baseline. Needs static inputs.",
    )
    domain_adaptation: Literal["none", "transductive", "inductive"] = "none"
    domain_key: Literal["group", "subject"] = Field(
        "group",
        description="Inductive mode: the domains among training subjects (strike group or subject).",
    )

    @field_validator("hyperparameters")
    @classmethod
    def _hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        return {name: _known(name).check(name, value) for name, value in given.items()}

    @field_validator("search_space")
    @classmethod
    def _search_space(cls, space: dict[str, Any]) -> dict[str, Any]:
        return {name: _check_search_entry(name, rng) for name, rng in space.items()}


class Pruner(_Strict):
    n_startup_trials: PrunerCount = Field(5, description="Trials that are never pruned.")
    n_warmup_steps: PrunerCount = Field(5, description="Epochs of a trial that are never pruned.")


class Validation(_Strict):
    scheme: Literal["loso"] = "loso"
    inner_trials: Trials = Field(
        20, description="Optuna trials inside each outer fold (or each tuning block)."
    )
    tuning_blocks: Folds | None = Field(
        None,
        description="Tune once per block of held-out runners instead of once per outer fold: "
        "the runners are split into this many subject-grouped blocks, each block's Optuna study "
        "tunes on the runners outside it, and every fold whose held-out runner is in the block "
        "trains with that study's best hyperparameters. No runner's tuning sees it; tuning costs "
        "blocks instead of folds. null: one study per outer fold.",
    )
    inner_folds: Folds = Field(
        3,
        description="Grouped (by subject) folds of the training subjects for tuning (ridge "
        "penalties are chosen leave-one-runner-out).",
    )
    seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1, max_length=1000)
    pruner: Pruner = Field(default_factory=Pruner)
    early_stopping_patience: int | None = Field(
        10,
        ge=1,
        le=10_000,
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
    ridge_alphas: list[RidgeAlpha] = Field(
        default_factory=lambda: [10.0**e for e in range(-3, 6)],
        min_length=1,
        max_length=1000,
        description="Ridge penalties tried by inner CV (features standardised, so unitless).",
    )
    permutation_repeats: Repeats = Field(
        5, description="Repeats of per-sensor permutation importance."
    )
    deterministic: bool = Field(
        True, description="TensorFlow op determinism (slower, reproducible)."
    )

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        _refuse_repeats(seeds, "listed more than once (each seed is one repeat of the training)")
        return seeds


class ExperimentSpec(_Strict):
    """An experiment spec: ML targets (``phase.bone.stat``), inputs, model and validation."""

    kind: Literal["experiment"]
    id: Name
    description: str = ""
    targets: list[str] = Field(default_factory=lambda: list(PAPER_TARGET_NAMES), min_length=1)
    peak_stat: PeakStat = Field(
        DEFAULT_PEAK_STAT, description="Which stored statistic a 'peak' target reads."
    )
    label_backend: Name | None = Field(
        None, description="Backend whose labels to learn; None: the store must hold only one."
    )
    inputs: Inputs = Field(default_factory=Inputs)
    model: ModelChoice = Field(default_factory=ModelChoice)
    validation: Validation = Field(default_factory=Validation)

    @field_validator("label_backend")
    @classmethod
    def _known_backend(cls, name: str | None) -> str | None:
        from footdt.backends import REGISTRY

        if name is not None and name not in REGISTRY:
            raise ValueError(f"unknown backend '{name}'; use one of {', '.join(REGISTRY)}")
        return name

    @field_validator("targets")
    @classmethod
    def _target_names(cls, targets: list[str]) -> list[str]:
        for t in targets:
            parts = t.split(".")
            if len(parts) != 3 or parts[0] not in PHASES or parts[2] not in TARGET_KINDS:
                raise ValueError(
                    f"target {excerpt(t)} is not 'phase.bone.stat' with phase in "
                    f"{', '.join(PHASES)} and stat in {', '.join(TARGET_KINDS)}"
                )
            if parts[1] not in (*BONES, SOFT_TISSUE):
                raise ValueError(
                    f"target {excerpt(t)} names no part footdt labels; bones: {', '.join(BONES)}"
                )
        _refuse_repeats(targets, "listed more than once")
        return targets

    @model_validator(mode="after")
    def _readout_needs_static(self) -> ExperimentSpec:
        if self.model.readout != "none" and not self.inputs.static_features:
            raise ValueError(
                f"model.readout: {self.model.readout} reads the static inputs, and "
                "inputs.static_features is empty: list some (e.g. [body_mass, imu_summary]) "
                "or set readout: none"
            )
        return self


def _refuse_repeats(items: list[Any], what: str) -> None:
    dup = [x for x, n in Counter(items).items() if n > 1]
    if dup:
        raise ValueError(f"{excerpt(dup[0])} is {what}: keep one")
