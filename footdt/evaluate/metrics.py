"""Accuracy metrics per target, as in the paper: r, MSE, RMSE, ME, MAE, MAPE, Bland-Altman.

Errors are ``prediction - truth`` (MPa): ME > 0 means over-prediction. MAPE is in percent,
``100 * mean(|pred - true| / |true|)``. Bland-Altman: bias = mean difference, SD with ddof 1,
limits of agreement ``bias +- 1.96 SD``. Table 1 of the paper reports RMSE as mean +- SD over
subjects, so ``metrics_table`` gives both the pooled metrics (all held-out trials at once) and
the per-subject mean and SD of RMSE and MAPE.
"""

from __future__ import annotations

from typing import Any

import numpy as np

METRICS = (
    "n",
    "r",
    "mse",
    "rmse",
    "me",
    "mae",
    "mape",
    "ba_bias",
    "ba_sd",
    "ba_loa_low",
    "ba_loa_high",
)
LOA_Z = 1.96


def pearson_r(a: Any, b: Any) -> float:
    """Pearson correlation; NaN when either side is constant or there are < 2 values."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2:
        return float("nan")
    da, db = a - a.mean(), b - b.mean()
    den = np.sqrt((da**2).sum() * (db**2).sum())
    return float((da * db).sum() / den) if den > 0 else float("nan")


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """All metrics of one target (values in MPa, MSE in MPa^2, MAPE in %)."""
    t, p = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    if t.shape != p.shape:
        raise ValueError(f"truth {t.shape} and prediction {p.shape} differ in length")
    if len(t) == 0:
        return {m: float("nan") for m in METRICS} | {"n": 0.0}
    err = p - t
    sd = float(err.std(ddof=1)) if len(err) > 1 else float("nan")
    bias = float(err.mean())
    nonzero = np.abs(t) > 0
    mape = (
        float(100 * np.mean(np.abs(err[nonzero]) / np.abs(t[nonzero])))
        if nonzero.all()
        else float("nan")
    )
    mse = float(np.mean(err**2))
    return {
        "n": float(len(t)),
        "r": pearson_r(t, p),
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "me": bias,
        "mae": float(np.mean(np.abs(err))),
        "mape": mape,
        "ba_bias": bias,
        "ba_sd": sd,
        "ba_loa_low": bias - LOA_Z * sd,
        "ba_loa_high": bias + LOA_Z * sd,
    }


def subject_metrics(pred: Any) -> Any:
    """Per predictor, target and subject: the subject's RMSE, MAE, MAPE and ME over its trials.

    ``pred``: DataFrame with subject, group, predictor, target, true_mpa, pred_mpa.
    """
    import pandas as pd

    rows = []
    for (predictor, target, subject, group), d in pred.groupby(
        ["predictor", "target", "subject", "group"], sort=False
    ):
        m = regression_metrics(d["true_mpa"], d["pred_mpa"])
        rows.append({"predictor": predictor, "target": target, "subject": subject, "group": group,
                     "true_mpa": float(d["true_mpa"].mean()),
                     **{k: m[k] for k in ("n", "rmse", "mae", "mape", "me")}})  # fmt: skip
    return pd.DataFrame(rows)


def metrics_table(pred: Any) -> Any:
    """Per predictor and target: pooled metrics plus per-subject RMSE/MAPE mean and SD."""
    import pandas as pd

    per_subject = subject_metrics(pred)
    rows = []
    for (predictor, target), d in pred.groupby(["predictor", "target"], sort=False):
        m = regression_metrics(d["true_mpa"], d["pred_mpa"])
        s = per_subject[(per_subject.predictor == predictor) & (per_subject.target == target)]
        rows.append({
            "predictor": predictor, "target": target, **m,
            "n_subjects": len(s),
            "rmse_subject_mean": float(s["rmse"].mean()), "rmse_subject_sd": float(s["rmse"].std(ddof=1)),
            "mape_subject_mean": float(s["mape"].mean()), "mape_subject_sd": float(s["mape"].std(ddof=1)),
        })  # fmt: skip
    return pd.DataFrame(rows)
