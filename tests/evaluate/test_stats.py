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


def test_multiple_comparisons_are_corrected() -> None:
    """Holm and Benjamini-Hochberg by hand on a small family; NaN stays out of the family."""
    from footdt.evaluate.stats import adjust_p

    p = np.array([0.01, 0.04, np.nan, 0.03])
    holm = adjust_p(p, "holm")  # sorted 0.01, 0.03, 0.04 x (3, 2, 1), made monotone
    np.testing.assert_allclose(holm[[0, 3, 1]], [0.03, 0.06, 0.06])
    assert np.isnan(holm[2])
    bh = adjust_p(p, "fdr_bh")  # 0.01 x 3/1, 0.03 x 3/2, 0.04 x 3/3, made monotone from the top
    np.testing.assert_allclose(bh[[0, 3, 1]], [0.03, 0.04, 0.04])
    with pytest.raises(ValueError, match="unknown correction"):
        adjust_p(p, "bonferonni")


def test_many_null_group_tests_are_not_significant_after_correction() -> None:
    """56 tests on groups drawn from one distribution: a few raw p < 0.05 happen; after the
    false-discovery-rate correction none is called significant."""
    rng = np.random.default_rng(7)
    rows = []
    for t in range(28):
        for s in range(16):
            group = "rearfoot" if s < 8 else "non_rearfoot"
            rows.append({"predictor": "model", "target": f"t{t}", "subject": f"s{s}",
                         "group": group, "true_mpa": rng.normal(10, 1), "mape": rng.normal(5, 1)})  # fmt: skip
    g = group_comparisons(pd.DataFrame(rows))
    assert len(g) == 56 and (g.correction == "fdr_bh").all()
    assert g.significant_unadjusted.sum() >= 1 and g.significant.sum() == 0
    assert (g.p_adjusted >= g.p_value - 1e-12).all()
