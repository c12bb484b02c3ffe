"""RFS vs NRFS: Shapiro-Wilk decides between the t-test and the Wilcoxon rank-sum test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from footdt.evaluate.stats import compare_groups, group_comparisons, paired_wilcoxon


def test_normal_groups_get_a_t_test() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(10, 1, 30), rng.normal(11, 1, 25)
    res = compare_groups(a, b)
    assert res.normal and res.test == "welch_t"
    assert res.p_value == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert res.significant == (res.p_value < 0.05)
    assert compare_groups(a, b, equal_var=True).test == "student_t"
    assert res.n_a == 30 and res.mean_b == pytest.approx(b.mean())


def test_non_normal_groups_get_the_rank_sum_test() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.exponential(1, 40) ** 3, rng.exponential(1, 40) ** 3 + 0.5
    assert stats.shapiro(a).pvalue < 0.05
    res = compare_groups(a, b)
    assert not res.normal and res.test == "wilcoxon_rank_sum"
    assert res.p_value == pytest.approx(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def test_tiny_groups_cannot_be_checked_for_normality() -> None:
    res = compare_groups([1.0, 2.0], [3.0, 4.0, 5.0, 6.0])
    assert res.test == "wilcoxon_rank_sum" and np.isnan(res.shapiro_p_a)
    assert compare_groups([], [1.0]).test == "none"


def test_clearly_different_groups_are_significant_and_equal_ones_not() -> None:
    rng = np.random.default_rng(2)
    assert compare_groups(rng.normal(0, 1, 20), rng.normal(5, 1, 20)).significant
    assert not compare_groups(np.arange(10.0), np.arange(10.0)).significant


def test_paired_wilcoxon() -> None:
    assert np.isnan(paired_wilcoxon([1.0, 2.0], [1.0, 2.0]))
    a = np.arange(1.0, 11.0)
    assert paired_wilcoxon(a, a + 1) == pytest.approx(stats.wilcoxon(-np.ones(10)).pvalue)


def test_group_comparisons_per_target() -> None:
    per_subject = pd.DataFrame({
        "predictor": "model", "target": "t", "subject": [f"s{i}" for i in range(8)],
        "group": ["rearfoot"] * 5 + ["non_rearfoot"] * 3,
        "true_mpa": [10, 11, 12, 10.5, 11.5, 20, 21, 22], "mape": [5, 6, 5, 7, 6, 9, 8, 10.0],
    })  # fmt: skip
    g = group_comparisons(per_subject)
    assert list(g.quantity) == ["stress_mpa", "mape_pct"]
    assert g.iloc[0].mean_a == pytest.approx(11.0) and g.iloc[0].mean_b == pytest.approx(21.0)
    assert g.iloc[0].significant
