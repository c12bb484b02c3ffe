"""The relative damage index: power law, bone grouping, reference stress."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from footdt.learn.dataset import resolve_targets
from footdt.twin.damage import (
    DamageError,
    bone_groups,
    damage_by_bone,
    reference_stress,
    stride_terms,
)

TARGETS = resolve_targets(
    ["initial_contact.calcaneus.mean", "mid_stance.metatarsal_2.mean",
     "mid_stance.metatarsal_2.peak", "push_off.metatarsal_2.peak"], "p99",
)  # fmt: skip


def test_power_law_terms() -> None:
    t = stride_terms(np.array([10.0, 11.0, 5.0, -1.0]), 10.0, 10.0)
    np.testing.assert_allclose(t, [1.0, 1.1**10, 0.5**10, 0.0])
    assert pytest.approx(2.5937, abs=1e-4) == 1.1**10  # 10 % more stress, 2.6x the damage
    with pytest.raises(DamageError, match="exponent"):
        stride_terms(np.ones(2), 1.0, 0.0)
    with pytest.raises(DamageError, match="reference stress"):
        stride_terms(np.ones(2), 0.0, 10.0)


def test_bones_use_their_peak_targets_over_phases() -> None:
    assert bone_groups(TARGETS) == {"calcaneus": [0], "metatarsal_2": [2, 3]}
    pred = np.array([[6.0, 8.0, 30.0, 45.0], [6.0, 8.0, 50.0, 40.0], [12.0, 8.0, 20.0, 22.5]])
    ref = {"calcaneus": 6.0, "metatarsal_2": 45.0}
    d = {x.bone: x for x in damage_by_bone(pred, TARGETS, ref, exponent=2.0)}
    assert d["calcaneus"].stat == "mean" and d["metatarsal_2"].stat == "p99"
    assert d["metatarsal_2"].targets == (
        "mid_stance.metatarsal_2.peak",
        "push_off.metatarsal_2.peak",
    )
    np.testing.assert_allclose(d["calcaneus"].cumulative, [1.0, 2.0, 6.0])
    np.testing.assert_allclose(
        d["metatarsal_2"].cumulative, [1.0, 1.0 + (50 / 45) ** 2, 1.0 + (50 / 45) ** 2 + 0.25]
    )
    assert d["calcaneus"].index == 6.0 and d["calcaneus"].per_1000_strides == 2000.0
    assert d["calcaneus"].as_dict()["damage_index"] == 6.0


def test_reference_stress_is_the_median_labelled_stress() -> None:
    rows = []
    for i, (calc, ms, po) in enumerate([(5.0, 40.0, 30.0), (6.0, 20.0, 35.0), (9.0, 50.0, 60.0)]):
        for name, v in zip([t.name for t in TARGETS], (calc, 1.0, ms, po), strict=True):
            for predictor in ("model", "mean"):
                rows.append({"subject": f"S{i}", "trial": "T1", "predictor": predictor,
                             "target": name, "true_mpa": v, "pred_mpa": 0.0})  # fmt: skip
    ref = reference_stress(pd.DataFrame(rows), TARGETS)
    assert ref == {
        "calcaneus": 6.0,
        "metatarsal_2": 40.0,
    }  # medians of (5,6,9), max(40,30)=40, 35, 60
