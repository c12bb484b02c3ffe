"""The information ceiling recovers what the labels were made from, and nothing from noise."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.learn.ceiling import information_ceiling
from footdt.learn.dataset import load_dataset
from tests.learn.conftest import tiny_spec
from tests.learn.synthetic import Synthetic


def _generation(syn: Synthetic, noise: bool) -> dict:
    rng = np.random.default_rng(0)
    subjects: dict[str, dict] = {}
    for (sid, tid), value in syn.intensity.items():
        state = {"intensity": float(rng.normal()) if noise else value}
        subjects.setdefault(sid, {"id": sid, "trials": {}})["trials"][tid] = {"plate_state": state}
    return {"subjects": list(subjects.values())}


@pytest.mark.slow  # ~30 s of ridge fits (8 folds x inner CV x 2 input sets x 2 scales)
def test_the_true_state_and_mass_explain_the_labels(small_cohort: Synthetic) -> None:
    ds = load_dataset(tiny_spec(), small_cohort.store, small_cohort.cohort)
    res = information_ceiling(
        ds, _generation(small_cohort, noise=False), sets=("state_mass", "body_mass")
    )
    assert res["state_inputs"] == ["intensity"]
    for t, row in res["targets"].items():
        lab = row["labels"]
        assert lab["state_mass"] > 0.9, (t, lab)  # labels = base x (mass term + intensity) x noise
        assert lab["state_mass"] > lab["body_mass"] + 0.3, (t, lab)
    noise = information_ceiling(ds, _generation(small_cohort, noise=True), sets=("state",))
    assert all(r["labels"]["state"] < 0.2 for r in noise["targets"].values())
