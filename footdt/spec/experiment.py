"""The experiment spec: what to learn from which inputs, and how to validate it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from footdt.domain import DEFAULT_PEAK_STAT, PAPER_TARGET_NAMES, PHASES, STATS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Inputs(_Strict):
    sensors: list[Literal["foot", "tibia"]] = Field(default_factory=lambda: ["foot", "tibia"])
    channels: list[Literal["ax", "ay", "az"]] = Field(default_factory=lambda: ["ax", "ay", "az"])
    samples_per_phase: int = Field(100, gt=0)
    static_features: list[Literal["body_mass", "height", "foot_length", "speed"]] = Field(
        default_factory=list
    )


class ModelChoice(_Strict):
    architecture: Literal["tcn", "cnn1d", "lstm", "cnn_lstm", "lstm_mlp", "lstm_attention"] = "lstm"
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    search_space: dict[str, Any] = Field(default_factory=dict)
    domain_adaptation: Literal["none", "transductive", "inductive"] = "none"


class Validation(_Strict):
    scheme: Literal["loso"] = "loso"
    inner_trials: int = Field(20, ge=1, description="Optuna trials inside each outer fold.")
    seeds: list[int] = Field(default_factory=lambda: [0])


class ExperimentSpec(_Strict):
    """An experiment spec: ML targets (``phase.bone.stat``), inputs, model and validation."""

    kind: Literal["experiment"]
    id: str
    description: str = ""
    targets: list[str] = Field(default_factory=lambda: list(PAPER_TARGET_NAMES))
    peak_stat: Literal["p95", "p99", "max"] = Field(
        DEFAULT_PEAK_STAT, description="Which stored statistic a 'peak' target reads."
    )
    inputs: Inputs = Field(default_factory=Inputs)  # type: ignore[arg-type]
    model: ModelChoice = Field(default_factory=ModelChoice)  # type: ignore[arg-type]
    validation: Validation = Field(default_factory=Validation)  # type: ignore[arg-type]

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
        return targets
