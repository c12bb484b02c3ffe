from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from footdt.learn.interpret import (
    InputGroup,
    importance_table,
    input_groups,
    permutation_plan,
    permuted_inputs,
)

CH = ("foot_ax", "foot_ay", "foot_az", "tibia_ax", "tibia_ay", "tibia_az")


def test_groups_and_permutation_swap_only_the_group() -> None:
    assert input_groups(CH, ()) == {"foot": InputGroup([0, 1, 2], []),
                                    "tibia": InputGroup([3, 4, 5], [])}  # fmt: skip
    assert input_groups(("tibia_az",), ("body_mass",)) == {
        "tibia": InputGroup([0], []), "static": InputGroup([], [0])}  # fmt: skip
    groups = input_groups(CH, ("body_mass", "imu.foot_peak_norm", "imu.tibia_az_peak",
                               "imu.stance_time_s"))  # fmt: skip
    assert groups["foot"].static == [1] and groups["tibia"].static == [2]
    assert groups["static"] == InputGroup([], [0, 3])
    plan = permutation_plan(5, 3, seed=0)
    assert plan.shape == (3, 5) and all(sorted(p) == list(range(5)) for p in plan)
    X = np.arange(5)[:, None, None] * np.ones((5, 4, 6))
    S = np.arange(5.0)[:, None] * np.ones((5, 2))
    rows, partner = np.array([1, 2]), np.array([4, 0])
    x, s = permuted_inputs(X, S, rows, partner, InputGroup([3, 4, 5], [1]))
    assert (x[0, :, :3] == 1).all() and (x[0, :, 3:] == 4).all() and (x[1, :, 3:] == 0).all()
    np.testing.assert_array_equal(s[:, 0], [1, 2])
    np.testing.assert_array_equal(s[:, 1], [4, 0])
    _, s = permuted_inputs(X, S, rows, partner, InputGroup([], [0]))
    np.testing.assert_array_equal(s[:, 0], [4, 0])


def test_importance_by_hand() -> None:
    base = pd.DataFrame({"subject": ["a", "b"], "trial": ["1", "1"], "target": ["t", "t"],
                         "true_mpa": [1.0, 2.0], "pred_mpa": [2.0, 3.0]})  # fmt: skip  # RMSE 1
    perm = pd.DataFrame({"subject": ["a", "b"] * 2, "trial": ["1"] * 4, "target": ["t"] * 4,
                         "permuted": ["foot"] * 4, "repeat": [0, 0, 1, 1],
                         "true_mpa": [1.0, 2.0] * 2, "pred_mpa": [3.0, 4.0, 4.0, 5.0]})  # fmt: skip  # RMSE 2, 3
    t = importance_table(perm, base)
    assert t.iloc[0].rmse_intact == 1.0 and t.iloc[0].rmse_permuted == 2.5
    assert t.iloc[0].importance == pytest.approx(1.5)
