"""Group statistics as in the paper: rearfoot (RFS) vs non-rearfoot (NRFS) strikers.

``compare_groups``: Shapiro-Wilk on each group (needs >= 3 values); if neither rejects normality
at ``alpha``, a t-test (Welch by default, Student with ``equal_var=True``); otherwise the Wilcoxon
rank-sum test (Mann-Whitney U, two-sided). A group with < 3 values cannot be checked for
normality, so the rank-sum test is used. Significant when p < ``alpha`` (0.05).
One value per subject (trials averaged), so trials of one runner are not counted as independent.

Several tests at once: ``adjust_p`` corrects a family of p-values with statsmodels'
``multipletests``. ``group_comparisons`` makes 2 tests per target (56 for the paper's 28
targets), an exploratory screen, so its family is corrected for the false discovery rate
(Benjamini-Hochberg, ``GROUP_CORRECTION``); ``significant`` there means the adjusted p is below
``alpha``, and the unadjusted p stays in ``p_value``. (statsmodels is a dependency for this: its
corrections are the reference implementations, with the step-down/step-up details right.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from footdt.domain import NON_REARFOOT, REARFOOT_STRIKE

ALPHA = 0.05
GROUPS = (REARFOOT_STRIKE, NON_REARFOOT)
#: Multiple-comparison corrections (statsmodels ``multipletests`` method names).
CORRECTIONS = {"holm": "Holm", "fdr_bh": "Benjamini-Hochberg FDR"}
GROUP_CORRECTION = "fdr_bh"


def adjust_p(p_values: Any, method: str = "holm") -> np.ndarray:
    """Adjusted p-values of one family of tests (``method``: ``holm`` controls the family-wise
    error rate, ``fdr_bh`` the false discovery rate). NaN p-values (tests that could not be
    made) stay NaN and do not count in the family."""
    from statsmodels.stats.multitest import multipletests

    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; use one of {sorted(CORRECTIONS)}")
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=method)[1]
    return out


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
    (target, quantity) and the ``GroupTest`` fields, plus ``p_adjusted`` (over all rows,
    ``GROUP_CORRECTION``), ``correction`` and ``significant_unadjusted``; ``significant`` is
    judged on the adjusted p.
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
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["p_adjusted"] = adjust_p(df["p_value"], GROUP_CORRECTION)
    df["correction"] = GROUP_CORRECTION
    df["significant_unadjusted"] = df["significant"]
    df["significant"] = df["p_adjusted"] < alpha
    return df
