"""A relative bone-damage index over a recorded bout: a stress-life power law summed per stride.

For each bone with predicted targets,

    D_bone = sum over strides i of (sigma_i / sigma_ref) ** b

- ``sigma_i`` (MPa): the bone's predicted peak von Mises stress in stride i, the largest of its
  ``peak`` targets over the phases the run predicts (e.g. M2 at mid-stance and push-off). A bone
  with only ``mean`` targets uses those (the result says ``stat: mean``). Negative predictions
  count as 0.
- ``sigma_ref`` (MPa): the same quantity from the run's FE labels, the median over its training
  trials (``predictions.csv``, ``true_mpa``). ``D`` is therefore a number of *typical cohort
  strides*: 100 strides at the cohort's median stress give D = 100; 100 strides 10 % above it
  give 100 x 1.1^b (259 at b = 10).
- ``b``: the stress-life (S-N) exponent of bone fatigue, ``DEFAULT_EXPONENT`` = 10: footdt's
  choice, not a verified published value (fitted exponents of cortical bone are large, so peak
  stress dominates the sum); docs/predict.md gives the sources of the formula and what we could
  and could not check.

Linear (Palmgren-Miner) accumulation, no repair, no endurance limit, no load-rate or
temperature effect: this is a **relative** index for comparing bouts, runners or bones under
the same model, not a fracture probability and not a failure criterion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from footdt.domain import MEAN
from footdt.errors import FootdtError
from footdt.learn.dataset import TargetRef

DEFAULT_EXPONENT = 10.0


class DamageError(FootdtError):
    """The damage index cannot be computed (bad exponent, no reference stress)."""


@dataclass(frozen=True)
class BoneDamage:
    """Damage index of one bone over the predicted strides."""

    bone: str
    targets: tuple[str, ...]
    stat: str  # the label statistic of sigma_i: the run's peak statistic, or mean
    exponent: float
    sigma_ref_mpa: float
    n_strides: int
    index: float  # D over the predicted strides (reference-stride equivalents)
    per_1000_strides: float
    cumulative: np.ndarray  # (n_strides,) running sum of D

    def as_dict(self) -> dict[str, Any]:
        return {
            "bone": self.bone,
            "targets": list(self.targets),
            "stat": self.stat,
            "exponent": self.exponent,
            "sigma_ref_mpa": self.sigma_ref_mpa,
            "n_strides": self.n_strides,
            "damage_index": self.index,
            "per_1000_strides": self.per_1000_strides,
        }


def stride_terms(sigma_mpa: np.ndarray, sigma_ref_mpa: float, exponent: float) -> np.ndarray:
    """Per-stride damage terms ``(max(sigma, 0) / sigma_ref) ** b`` (dimensionless)."""
    if not np.isfinite(exponent) or exponent <= 0:
        raise DamageError(f"the S-N exponent must be > 0, got {exponent}")
    if not np.isfinite(sigma_ref_mpa) or sigma_ref_mpa <= 0:
        raise DamageError(f"the reference stress must be > 0 MPa, got {sigma_ref_mpa}")
    s = np.maximum(np.asarray(sigma_mpa, dtype=float), 0.0)
    return np.asarray((s / sigma_ref_mpa) ** exponent)


def bone_groups(targets: Sequence[TargetRef]) -> dict[str, list[int]]:
    """{bone: target columns of its stress per stride}: its peak targets, else its mean ones."""
    out: dict[str, list[int]] = {}
    for bone in dict.fromkeys(t.bone for t in targets):
        cols = [k for k, t in enumerate(targets) if t.bone == bone]
        peak = [k for k in cols if targets[k].stat != MEAN]
        out[bone] = peak or cols
    return out


def reference_stress(predictions: Any, targets: Sequence[TargetRef]) -> dict[str, float]:
    """{bone: median over the run's trials of the bone's labelled stress} (MPa), from the
    ``true_mpa`` of ``predictions.csv`` (one value per subject, trial and target)."""
    p = predictions[predictions["predictor"] == "model"]
    wide = p.pivot_table(index=["subject", "trial"], columns="target", values="true_mpa")
    out = {}
    for bone, cols in bone_groups(targets).items():
        names = [targets[k].name for k in cols]
        missing = [n for n in names if n not in wide.columns]
        if missing:
            raise DamageError(f"predictions.csv has no labels of {', '.join(missing)}")
        out[bone] = float(np.median(wide[names].to_numpy(float).max(axis=1)))
    return out


def damage_by_bone(
    pred_mpa: np.ndarray,
    targets: Sequence[TargetRef],
    sigma_ref: dict[str, float],
    exponent: float = DEFAULT_EXPONENT,
) -> list[BoneDamage]:
    """Damage index per bone from per-stride predictions ``pred_mpa`` (n_strides, n_targets)."""
    pred = np.asarray(pred_mpa, dtype=float)
    out = []
    for bone, cols in bone_groups(targets).items():
        sigma = pred[:, cols].max(axis=1)
        cum = np.cumsum(stride_terms(sigma, sigma_ref[bone], exponent))
        n = len(sigma)
        total = float(cum[-1]) if n else 0.0
        out.append(BoneDamage(
            bone=bone, targets=tuple(targets[k].name for k in cols), stat=targets[cols[0]].stat,
            exponent=float(exponent), sigma_ref_mpa=float(sigma_ref[bone]), n_strides=n,
            index=total, per_1000_strides=1000.0 * total / n if n else 0.0, cumulative=cum,
        ))  # fmt: skip
    return out
