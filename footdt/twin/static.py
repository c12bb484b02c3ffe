"""Static inputs of a prediction (body mass, height, foot length, speed): physical range and
out-of-distribution against the run's training runners.

Physical ranges are those of the cohort manifest (``footdt.cohort.manifest``: body mass
20-250 kg, height 1.0-2.5 m, foot length 150-350 mm), the one place a runner's measurements are
bounded; running speed has only ``> 0`` there, and gets an upper bound of 12 m/s (faster than any
human sprint) here. A value outside its range is refused in one line with its units, and with a
hint when it looks like another unit (76138 for a body mass in kg is 76.1 kg written in grams).

A value inside the physical range but unlike the training runners' is flagged, not refused,
the way strides are (``footdt.twin.ood``): the Mahalanobis distance of the static row to the
training rows (one per training trial), thresholded at the 0.99 quantile of the training
subjects' leave-one-subject-out distances (``ood.fit_reference``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from footdt.errors import FootdtError
from footdt.twin.ood import OodReference, fit_reference

#: Upper bound of a running speed (m/s); the manifest only says > 0.
MAX_SPEED_M_S = 12.0
#: Other units a value is often written in: (factor to the expected unit, that unit's name).
_UNIT_SLIPS: dict[str, tuple[tuple[float, str], ...]] = {
    "body_mass": ((1e-3, "g"), (0.45359237, "lb")),
    "height": ((1e-2, "cm"), (1e-3, "mm"), (0.3048, "ft")),
    "foot_length": ((10.0, "cm"), (1000.0, "m")),
    "speed": ((1.0 / 3.6, "km/h"), (1e-3, "mm/s")),
}
_MANIFEST_FIELD = {
    "body_mass": ("Subject", "body_mass_kg"),
    "height": ("Subject", "height_m"),
    "foot_length": ("Subject", "foot_length_mm"),
    "speed": ("Trial", "speed_m_s"),
}


class StaticInputError(FootdtError):
    """A static input is not a number in its physical range."""


def _units(name: str) -> str:
    from footdt.learn.dataset import STATIC_UNITS

    return STATIC_UNITS.get(name, "")


def physical_range(name: str) -> tuple[float, float]:
    """(low, high) of a static input, from the cohort manifest's field bounds."""
    from footdt.cohort import manifest

    low, high = -math.inf, math.inf
    if name in _MANIFEST_FIELD:
        model, field = _MANIFEST_FIELD[name]
        for m in getattr(manifest, model).model_fields[field].metadata:
            for attr in ("gt", "ge"):
                if getattr(m, attr, None) is not None:
                    low = float(getattr(m, attr))
            for attr in ("lt", "le"):
                if getattr(m, attr, None) is not None:
                    high = float(getattr(m, attr))
    if name == "speed":
        high = min(high, MAX_SPEED_M_S)
    return low, high


def check_static(values: Mapping[str, float]) -> None:
    """Refuse a static input that is not finite or outside its physical range (one line)."""
    for name, value in values.items():
        unit = _units(name)
        flag = f"--static {name}={value:g}"
        if not math.isfinite(value):
            example = f", e.g. {name}={_example(name):g}" if name in _MANIFEST_FIELD else ""
            raise StaticInputError(f"{flag}: must be a finite number ({unit or 'in its units'})"
                                   f"{example}")  # fmt: skip
        low, high = physical_range(name)
        if low < value < high:
            continue
        hint = ""
        for factor, other in _UNIT_SLIPS.get(name, ()):
            if low < value * factor < high:
                hint = f"; is it in {other}? that is {value * factor:.4g} {unit}"
                break
        raise StaticInputError(f"{flag}: outside the physical range {low:g}-{high:g} {unit}{hint}; "
                               f"give {name} in {unit}")  # fmt: skip


def _example(name: str) -> float:
    return {"body_mass": 68.5, "height": 1.76, "foot_length": 260.0, "speed": 3.0}.get(name, 1.0)


@dataclass(frozen=True)
class StaticReference:
    """The training runners' static inputs: per-input range and the OOD reference."""

    names: tuple[str, ...]
    low: np.ndarray  # (S,) training minimum
    high: np.ndarray  # (S,) training maximum
    ood: OodReference | None  # None when the run has no static inputs

    def distance(self, row: np.ndarray) -> float:
        if self.ood is None:
            return 0.0
        return float(self.ood.distance(np.asarray(row, dtype=float).reshape(1, -1))[0])

    def flagged(self, row: np.ndarray) -> bool:
        return self.ood is not None and self.distance(row) > self.ood.threshold

    def describe(self, row: np.ndarray) -> dict[str, Any]:
        """JSON-ready: flag, warning message (or None), distance, threshold and each input
        against the training range."""
        r = np.asarray(row, dtype=float).reshape(-1)
        return {
            "flagged": self.flagged(r),
            "message": self.message(r),
            "distance": self.distance(r),
            "threshold": None if self.ood is None else self.ood.threshold,
            "inputs": {
                n: {"value": float(r[i]), "units": _units(n), "train_min": float(self.low[i]),
                    "train_max": float(self.high[i])}
                for i, n in enumerate(self.names)
            },
        }  # fmt: skip

    def message(self, row: np.ndarray) -> str | None:
        """A one-line warning when the row is out of distribution, else None."""
        if not self.flagged(row):
            return None
        r = np.asarray(row, dtype=float).reshape(-1)
        parts = [f"{n} {r[i]:g} {_units(n)} (training runners {self.low[i]:g}-{self.high[i]:g})"
                 for i, n in enumerate(self.names)]  # fmt: skip
        return ("static inputs unlike the training runners' (distance "
                f"{self.distance(r):.2f} > {self.ood.threshold:.2f}): " + ", ".join(parts)  # type: ignore[union-attr]
                + "; every stride is flagged out-of-distribution")  # fmt: skip


def static_reference(cohort: str | Path, subjects: Sequence[str], names: Sequence[str]) -> StaticReference:  # fmt: skip
    """The static inputs of every training trial of ``subjects`` (rows grouped by subject)."""
    from footdt.cohort.manifest import load_manifest
    from footdt.learn.dataset import _static_value

    names = tuple(names)
    if not names:
        return StaticReference((), np.zeros(0), np.zeros(0), None)
    manifest = load_manifest(cohort)
    rows, subj = [], []
    for s in manifest.subjects:
        if s.id in subjects:
            for t in s.trials:
                rows.append([_static_value(n, s, t) for n in names])
                subj.append(s.id)
    f = np.asarray(rows, dtype=float)
    ref = fit_reference(f, subj, names) if len(set(subj)) >= 2 else None
    return StaticReference(names, f.min(axis=0), f.max(axis=0), ref)
