"""Conformal quantiles and CV+ intervals on residuals of known distribution (no networks)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from footdt.twin.intervals import (
    Calibration,
    CalibrationError,
    calibration_from_predictions,
    conformal_quantile,
    cv_plus,
    upper_rank,
)


def test_conformal_quantile_rank_and_too_few_scores() -> None:
    assert upper_rank(9, 0.9) == 9 and upper_rank(19, 0.9) == 18 and upper_rank(100, 0.9) == 91
    assert conformal_quantile(np.arange(1.0, 10.0), 0.9) == 9.0  # ceil(0.9 * 10) = 9th of 9
    assert conformal_quantile(np.arange(1.0, 9.0), 0.9) == math.inf  # 8 scores cannot give 90 %
    assert conformal_quantile([3.0, 1.0, 2.0, 5.0, 4.0], 0.5) == 3.0  # ceil(0.5 * 6) = 3rd
    with pytest.raises(CalibrationError, match="level"):
        conformal_quantile([1.0], 1.0)


@pytest.mark.parametrize(("n", "level"), [(19, 0.9), (40, 0.9), (30, 0.8), (99, 0.95)])
def test_split_conformal_coverage_is_nominal_on_known_residuals(n: int, level: float) -> None:
    """|N(0, 1)| scores: a new score is below the quantile with probability
    ceil(level (n+1)) / (n+1), in [level, level + 1/(n+1)); the uncorrected empirical quantile
    covers less."""
    rng = np.random.default_rng(n)
    reps = 40_000
    cal = np.abs(rng.standard_normal((reps, n)))
    new = np.abs(rng.standard_normal(reps))
    k = upper_rank(n, level)
    q = np.sort(cal, axis=1)[:, k - 1]
    assert q[0] == conformal_quantile(cal[0], level)
    covered = float(np.mean(new <= q))
    exact = k / (n + 1)
    assert level <= exact < level + 1 / (n + 1)
    assert covered == pytest.approx(exact, abs=0.006)  # 4 SE of a 40 000-draw mean
    naive = float(np.mean(new <= np.quantile(cal, level, axis=1)))
    assert naive < covered


def test_cv_plus_covers_new_points_of_a_grouped_regression() -> None:
    """K-fold (grouped) least-squares fits, residuals of each fold's held-out group: CV+
    intervals for fresh points cover ~90 % (CV+ errs on the safe side by a point or two: each
    vote uses a model fitted without the calibration point's group); with identical fold models
    CV+ equals split conformal."""
    rng = np.random.default_rng(3)
    covered, widths = [], []
    for _ in range(300):
        g, per = 12, 4  # 12 "subjects" x 4 "trials"
        x = rng.normal(size=(g * per, 2))
        y = x @ [1.5, -0.7] + 2.0 + rng.normal(0, 0.6, g * per)
        group = np.repeat(np.arange(g), per)
        coefs = []
        for f in range(g):
            tr = group != f
            a = np.c_[np.ones(tr.sum()), x[tr]]
            coefs.append(np.linalg.lstsq(a, y[tr], rcond=None)[0])
        coef = np.array(coefs)  # (folds, 3)
        cal_pred = np.einsum("ij,ij->i", np.c_[np.ones(len(x)), x], coef[group])
        resid = np.abs(y - cal_pred)
        xn = rng.normal(size=(50, 2))
        yn = xn @ [1.5, -0.7] + 2.0 + rng.normal(0, 0.6, 50)
        fold_pred = np.c_[np.ones(50), xn] @ coef.T  # (50, folds)
        lo, hi = cv_plus(fold_pred, group, resid, 0.9)
        covered.append(np.mean((lo <= yn) & (yn <= hi)))
        widths.append(np.median(hi - lo))
    assert 0.895 <= np.mean(covered) <= 0.93
    assert np.median(widths) < 2 * 1.645 * 0.6 * 1.3  # not much wider than the noise needs
    same = np.repeat(fold_pred[:, :1], 12, axis=1)
    lo, hi = cv_plus(same, group, resid, 0.9)
    q = conformal_quantile(resid, 0.9)
    np.testing.assert_allclose(lo, same[:, 0] - q)
    np.testing.assert_allclose(hi, same[:, 0] + q)


def test_calibration_from_a_predictions_table() -> None:
    rows = []
    for fold, subject in enumerate(["A", "B", "C"]):
        for trial in ("T1", "T2", "T3"):
            for predictor, err in (("model", 0.1 * (fold + 1)), ("mean", 5.0)):
                rows.append({"subject": subject, "trial": trial, "fold": fold,
                             "predictor": predictor, "target": "t", "true_mpa": 10.0,
                             "pred_mpa": 10.0 + err})  # fmt: skip
    cal = calibration_from_predictions(pd.DataFrame(rows), ["t"])
    assert cal.n("t") == 9 and cal.n_subjects == 3
    np.testing.assert_allclose(np.sort(cal.resid["t"]), np.repeat([0.1, 0.2, 0.3], 3))
    lo, hi = cal.interval("t", np.array([[1.0, 2.0, 3.0]]), [0, 1, 2], 0.9, "split")
    assert (lo[0], hi[0]) == pytest.approx((2.0 - 0.3, 2.0 + 0.3))  # ceil(0.9 * 10) = 9th
    with pytest.raises(CalibrationError, match=r"fold\(s\) \[2\] have no model"):
        cal.interval("t", np.array([[1.0, 2.0]]), [0, 1], 0.9)
    with pytest.raises(CalibrationError, match="no held-out 'model' rows for target u"):
        calibration_from_predictions(pd.DataFrame(rows), ["u"])
    empty = Calibration(("t",), {"t": np.zeros(3, int)}, {"t": np.ones(3)}, 1)
    lo, hi = empty.interval("t", np.zeros((2, 1)), [0], 0.9)
    # 3 trials cannot support 90 %: the upper bound is infinite, the lower one the floor (0 MPa)
    assert (lo == 0.0).all() and np.isinf(hi).all()


def test_interval_bounds_are_floored_at_zero_mpa() -> None:
    """Von Mises stress is never negative, so neither is a bound; floor=None keeps the raw one."""
    cal = Calibration(("t",), {"t": np.array([0, 1] * 10)}, {"t": np.full(20, 5.0)}, 2)
    fold_pred = np.array([[1.0, 2.0], [20.0, 20.0], [-3.0, -2.0]])
    lo, hi = cal.interval("t", fold_pred, [0, 1], 0.9)
    assert (lo >= 0).all() and (hi >= 0).all() and lo[1] == pytest.approx(15.0)
    raw_lo, raw_hi = cal.interval("t", fold_pred, [0, 1], 0.9, floor=None)
    assert raw_lo[0] < 0 and raw_hi[2] == pytest.approx(3.0) and hi[2] == pytest.approx(3.0)
    assert lo[0] == 0.0
