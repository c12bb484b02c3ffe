"""Group statistics as in the paper: rearfoot (RFS) vs non-rearfoot (NRFS) strikers.

``compare_groups``: Shapiro-Wilk on each group (needs >= 3 values); if neither rejects normality
at ``alpha``, a t-test (Welch by default, Student with ``equal_var=True``); otherwise the Wilcoxon
rank-sum test (Mann-Whitney U, two-sided). A group with < 3 values cannot be checked for
normality, so the rank-sum test is used. Significant when p < ``alpha`` (0.05).
One value per subject (trials averaged), so trials of one runner are not counted as independent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

ALPHA = 0.05
GROUPS = ("rearfoot", "non_rearfoot")


@dataclass(frozen=True)
class GroupTest:
    test: str  # welch_t | student_t | wilcoxon_rank_sum | none
    statistic: float
    p_value: float
    significant: bool
    normal: bool
    shapiro_p_a: float
    shapiro_p_b: float
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    median_a: float
    median_b: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _shapiro(x: np.ndarray) -> float:
    from scipy import stats

    if len(x) < 3 or np.ptp(x) == 0:
        return float("nan")
    return float(stats.shapiro(x).pvalue)


def compare_groups(a: Any, b: Any, *, alpha: float = ALPHA, equal_var: bool = False) -> GroupTest:
    """Compare two independent samples (see the module docstring for the choice of test)."""
    from scipy import stats

    x, y = np.asarray(a, float), np.asarray(b, float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    pa, pb = _shapiro(x), _shapiro(y)
    normal = bool(np.isfinite(pa) and np.isfinite(pb) and pa > alpha and pb > alpha)
    nan = float("nan")
    desc = (len(x), len(y), float(x.mean()) if len(x) else nan, float(y.mean()) if len(y) else nan,
            float(np.median(x)) if len(x) else nan, float(np.median(y)) if len(y) else nan)  # fmt: skip
    if len(x) == 0 or len(y) == 0:
        return GroupTest("none", nan, nan, False, normal, pa, pb, *desc)
    if normal:
        res = stats.ttest_ind(x, y, equal_var=equal_var)
        name = "student_t" if equal_var else "welch_t"
    else:
        res = stats.mannwhitneyu(x, y, alternative="two-sided")
        name = "wilcoxon_rank_sum"
    p = float(res.pvalue)
    return GroupTest(name, float(res.statistic), p, bool(p < alpha), normal, pa, pb, *desc)


def paired_wilcoxon(a: Any, b: Any) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired values (e.g. per-subject RMSE of the
    model and of a baseline); NaN with < 2 pairs or when all differences are zero."""
    from scipy import stats

    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[np.isfinite(d)]
    if len(d) < 2 or np.all(d == 0):
        return float("nan")
    return float(stats.wilcoxon(d).pvalue)


def group_comparisons(per_subject: Any, predictor: str = "model", alpha: float = ALPHA) -> Any:
    """Per target: RFS vs NRFS on the true stress and on ``predictor``'s per-subject MAPE.

    ``per_subject``: ``metrics.subject_metrics`` output. Returns a DataFrame with one row per
    (target, quantity) and the ``GroupTest`` fields.
    """
    import pandas as pd

    rows = []
    d = per_subject[per_subject.predictor == predictor]
    for target, t in d.groupby("target", sort=False):
        for quantity, col in (("stress_mpa", "true_mpa"), ("mape_pct", "mape")):
            res = compare_groups(
                t[t.group == GROUPS[0]][col], t[t.group == GROUPS[1]][col], alpha=alpha
            )
            rows.append({"target": target, "quantity": quantity, "group_a": GROUPS[0],
                         "group_b": GROUPS[1], **res.to_dict()})  # fmt: skip
    return pd.DataFrame(rows)
