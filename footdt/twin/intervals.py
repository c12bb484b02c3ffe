"""Prediction intervals calibrated on a run's held-out (leave-one-subject-out) residuals.

The run's ``predictions.csv`` holds, for every held-out trial ``i``, the FE label ``y_i`` and the
prediction ``mu_{f(i)}(x_i)`` of the fold ``f(i)`` that never saw the trial's subject (MPa, mean
over seeds). Its absolute residual ``R_i = |y_i - mu_{f(i)}(x_i)|`` is an honest out-of-subject
error. Two interval constructions at nominal level ``1 - alpha``:

- ``cv+`` (default; Barber, Candes, Ramdas & Tibshirani 2021, "Predictive inference with the
  jackknife+", Ann. Statist. 49:486, the CV+ variant): for a new input ``x``, every calibration
  trial votes with its own fold's model,
  ``lower = the floor(alpha (n+1))-th smallest of mu_{f(i)}(x) - R_i``,
  ``upper = the ceil((1-alpha)(n+1))-th smallest of mu_{f(i)}(x) + R_i``;
- ``split``: the fold ensemble ``mu(x)`` +- the ``ceil((1-alpha)(n+1))``-th smallest ``R_i``
  (split-conformal quantile with the finite-sample correction; the residuals come from single
  folds, so it is a little conservative for the ensemble).

With fewer calibration trials than the level allows (``ceil((1-alpha)(n+1)) > n``, e.g. n < 9 at
90 %) the bound is infinite: the run is too small to support the level, and we say so rather
than shrink it. Every target is a von Mises stress, which is never negative: bounds below
``floor`` (0 MPa) are raised to it; this changes no coverage, since the true value is >= 0 too.
Subjects, not trials, are the exchangeable units (a runner's trials share one
foot), so the guarantee is for a new runner drawn like the run's runners.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from footdt.errors import FootdtError

Method = Literal["cv+", "split"]
METHODS: tuple[str, ...] = ("cv+", "split")
DEFAULT_LEVEL = 0.9
#: Lowest possible value of a target (MPa): von Mises stress is not negative.
FLOOR_MPA = 0.0


class CalibrationError(FootdtError):
    """The run's held-out predictions cannot calibrate intervals."""


def upper_rank(n: int, level: float) -> int:
    """1-based rank ``ceil(level (n + 1))`` of the conformal upper quantile (> n: infinite)."""
    if not 0.0 < level < 1.0:
        raise CalibrationError(f"interval level must be in (0, 1), got {level}")
    return math.ceil(level * (n + 1) - 1e-9)


def conformal_quantile(scores: Sequence[float] | np.ndarray, level: float = DEFAULT_LEVEL) -> float:
    """The ``ceil(level (n+1))``-th smallest score, ``inf`` when that rank exceeds ``n``.

    For exchangeable scores and a new score ``s``, ``P(s <= q) >= level`` (and
    ``< level + 1/(n+1)`` without ties): the finite-sample split-conformal quantile.
    """
    s = np.sort(np.asarray(scores, dtype=float))
    k = upper_rank(len(s), level)
    return float(s[k - 1]) if k <= len(s) else math.inf


def _kth(values: np.ndarray, k: int, lower: bool) -> np.ndarray:
    """Per row, the k-th smallest value; a rank outside 1..n gives -inf (``lower``) or +inf."""
    n = values.shape[1]
    if k < 1 or k > n:
        return np.full(values.shape[0], -math.inf if lower else math.inf)
    return np.partition(values, k - 1, axis=1)[:, k - 1]


def cv_plus(
    fold_pred: np.ndarray, cal_fold: np.ndarray, cal_resid: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """CV+ interval (lower, upper) for each new point of one target (MPa).

    ``fold_pred`` (m, n_folds): every fold's prediction of the m new points; ``cal_fold`` (n,)
    the column of ``fold_pred`` whose model held out calibration trial i; ``cal_resid`` (n,) its
    absolute residual.
    """
    n = len(cal_resid)
    votes = np.asarray(fold_pred, dtype=float)[:, np.asarray(cal_fold, dtype=int)]
    r = np.asarray(cal_resid, dtype=float)[None, :]
    k_hi = upper_rank(n, level)
    k_lo = n + 1 - k_hi  # = floor(alpha (n + 1)) up to rounding of the level
    return _kth(votes - r, k_lo, lower=True), _kth(votes + r, k_hi, lower=False)


@dataclass(frozen=True)
class Calibration:
    """Held-out absolute residuals (MPa) per target, with the fold that produced each."""

    targets: tuple[str, ...]
    fold: dict[str, np.ndarray]  # target -> (n,) fold index of each calibration trial
    resid: dict[str, np.ndarray]  # target -> (n,) |true - pred| (MPa)
    n_subjects: int

    def n(self, target: str) -> int:
        return len(self.resid[target])

    def interval(
        self, target: str, fold_pred: np.ndarray, fold_ids: Sequence[int], level: float,
        method: Method = "cv+", floor: float | None = FLOOR_MPA,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """(lower, upper) (MPa) for new points with per-fold predictions ``fold_pred``
        (m, len(fold_ids)); columns follow ``fold_ids`` (the run's fold indices). Bounds below
        ``floor`` are raised to it (None: no floor)."""
        lo, hi = self._interval(target, fold_pred, fold_ids, level, method)
        if floor is None:
            return lo, hi
        return np.maximum(lo, floor), np.maximum(hi, floor)

    def _interval(
        self, target: str, fold_pred: np.ndarray, fold_ids: Sequence[int], level: float,
        method: Method,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        col = {f: j for j, f in enumerate(fold_ids)}
        missing = sorted({int(f) for f in self.fold[target]} - set(col))
        if missing:
            raise CalibrationError(
                f"held-out predictions of fold(s) {missing} have no model in the run; "
                "retrain with models saved"
            )
        fp = np.asarray(fold_pred, dtype=float)
        if method == "cv+":
            cal = np.array([col[int(f)] for f in self.fold[target]], dtype=int)
            return cv_plus(fp, cal, self.resid[target], level)
        if method == "split":
            q = conformal_quantile(self.resid[target], level)
            centre = fp.mean(axis=1)
            return centre - q, centre + q
        raise CalibrationError(f"unknown interval method {method!r}; use one of {METHODS}")


def calibration_from_predictions(predictions: Any, targets: Sequence[str]) -> Calibration:
    """Residuals of the run's ``model`` predictor per target from ``predictions.csv`` rows."""
    p = predictions[predictions["predictor"] == "model"]
    if p.empty:
        raise CalibrationError(
            "predictions.csv has no 'model' rows: nothing to calibrate intervals on"
        )
    fold, resid = {}, {}
    for t in targets:
        d = p[p["target"] == t]
        if d.empty:
            raise CalibrationError(f"predictions.csv has no held-out 'model' rows for target {t}")
        r = np.abs(d["true_mpa"].to_numpy(float) - d["pred_mpa"].to_numpy(float))
        if not np.isfinite(r).all():
            raise CalibrationError(f"predictions.csv holds NaN/inf predictions for target {t}")
        fold[t], resid[t] = d["fold"].to_numpy(int), r
    return Calibration(tuple(targets), fold, resid, int(p["subject"].nunique()))
