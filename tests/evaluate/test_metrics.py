"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from footdt.evaluate.metrics import metrics_table, pearson_r, regression_metrics, subject_metrics


def test_metrics_by_hand() -> None:
    # truth 1 2 3 4, prediction 2 2 4 3: errors +1 0 +1 -1
    m = regression_metrics([1, 2, 3, 4], [2, 2, 4, 3])
    assert m["n"] == 4
    assert m["me"] == m["ba_bias"] == 0.25
    assert m["mae"] == 0.75
    assert m["mse"] == 0.75
    assert m["rmse"] == pytest.approx(math.sqrt(0.75))
    assert m["mape"] == pytest.approx(100 * (1 + 0 + 1 / 3 + 1 / 4) / 4)  # 39.583 %
    # r = 2.5 / sqrt(5 * 2.75)
    assert m["r"] == pytest.approx(2.5 / math.sqrt(13.75))
    sd = math.sqrt(2.75 / 3)  # deviations of the errors from 0.25: .75 -.25 .75 -1.25
    assert m["ba_sd"] == pytest.approx(sd)
    assert m["ba_loa_low"] == pytest.approx(0.25 - 1.96 * sd)
    assert m["ba_loa_high"] == pytest.approx(0.25 + 1.96 * sd)


def test_edge_cases() -> None:
    assert math.isnan(pearson_r([1, 1, 1], [1, 2, 3]))
    assert math.isnan(regression_metrics([0.0, 1.0], [1.0, 1.0])["mape"])  # a zero truth
    assert regression_metrics([], [])["n"] == 0
    perfect = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert perfect["rmse"] == 0 and perfect["r"] == pytest.approx(1.0) and perfect["ba_sd"] == 0
    with pytest.raises(ValueError, match="differ in length"):
        regression_metrics([1, 2], [1])


def test_per_subject_mean_and_sd_of_rmse() -> None:
    pred = pd.DataFrame({
        "subject": ["a", "a", "b", "b"], "group": ["rearfoot"] * 2 + ["non_rearfoot"] * 2,
        "trial": ["1", "2", "1", "2"], "predictor": "model", "target": "t",
        "true_mpa": [10.0, 10.0, 20.0, 20.0], "pred_mpa": [11.0, 9.0, 23.0, 17.0],
    })  # fmt: skip
    ps = subject_metrics(pred)
    assert list(ps.rmse) == [1.0, 3.0] and list(ps.mape) == [10.0, 15.0]
    row = metrics_table(pred).iloc[0]
    assert row.rmse_subject_mean == 2.0 and row.rmse_subject_sd == pytest.approx(
        np.std([1, 3], ddof=1)
    )
    assert row.rmse == pytest.approx(math.sqrt((1 + 1 + 9 + 9) / 4))  # pooled
    assert row.mape_subject_mean == 12.5 and row.n_subjects == 2
