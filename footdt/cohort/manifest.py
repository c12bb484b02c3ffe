"""The cohort manifest (``cohort/manifest.json``): the contract between the cohort generator (or a
user's own study), the solve pipeline and the training step.

Paths inside are relative to the manifest's directory. IMU window files are NPZ with
``windows`` (n_strides, 300, 6) float32 in m/s^2, channels ``foot_ax foot_ay foot_az tibia_ax tibia_ay
tibia_az`` (right-foot frame), 100 samples per stance phase (initial_contact, mid_stance, push_off).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from footdt.domain import CHANNELS, StrikeGroup
from footdt.errors import FootdtError
from footdt.fileio import atomic_write

MANIFEST = "manifest.json"
FORMAT: Final = "footdt-cohort"
VERSION = 1
WINDOW_CHANNELS = CHANNELS
SAMPLES_PER_PHASE = 100


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trial(_Strict):
    id: str
    imu: str = Field(description="NPZ with `windows` (n_strides, 300, 6), m/s^2.")
    spec: str = Field(description="Subject spec (YAML) whose phase loads come from this trial.")
    pressure: str | None = Field(
        None, description="Regional plantar pressure per phase (CSV/NPZ), if any."
    )
    speed_m_s: float | None = Field(None, gt=0)


class Subject(_Strict):
    id: str
    group: StrikeGroup
    body_mass_kg: float = Field(gt=20, lt=250)
    height_m: float = Field(gt=1.0, lt=2.5)
    foot_length_mm: float | None = Field(None, gt=150, lt=350)
    side: Literal["right", "left"] = "right"
    shape_weights: list[float] = Field(
        default_factory=list, description="SSM PC weights, if personalised."
    )
    trials: list[Trial] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_trials(self) -> Subject:
        ids = [t.id for t in self.trials]
        if len(set(ids)) != len(ids):
            raise ValueError(f"subject {self.id}: duplicate trial ids {ids}")
        return self


class Manifest(_Strict):
    format: Literal["footdt-cohort"] = FORMAT
    version: int = VERSION
    seed: int | None = None
    description: str = ""
    subjects: list[Subject] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_subjects(self) -> Manifest:
        ids = [s.id for s in self.subjects]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate subject id(s): {', '.join(dup)}")
        return self

    def subject(self, sid: str) -> Subject:
        for s in self.subjects:
            if s.id == sid:
                return s
        raise KeyError(sid)


def load_manifest(cohort_dir: str | Path) -> Manifest:
    """Read and validate ``cohort_dir/manifest.json``; missing files are reported by subject/trial."""
    d = Path(cohort_dir)
    path = d / MANIFEST
    if not path.is_file():
        raise FootdtError(
            f"{d}: no {MANIFEST}: not a cohort directory (make one with `footdt cohort generate`)"
        )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise FootdtError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise FootdtError(f"{path}: {loc}: {msg}" if loc else f"{path}: {msg}") from None
    for s in manifest.subjects:
        for t in s.trials:
            for kind in ("imu", "spec", "pressure"):
                rel = getattr(t, kind)
                if rel is not None and not (d / rel).is_file():
                    raise FootdtError(
                        f"{path}: subject {s.id} trial {t.id}: {kind} file {rel} does not exist"
                    )
    return manifest


def save_manifest(manifest: Manifest, cohort_dir: str | Path) -> Path:
    d = Path(cohort_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / MANIFEST
    atomic_write(path, lambda tmp: tmp.write_text(manifest.model_dump_json(indent=1)))
    return path
