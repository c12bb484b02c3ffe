"""The information ceiling: how much of each target any learner could get from which inputs.

For a synthetic cohort (whose generator records the true gait state of the stride on the force
plate and every hidden factor, ``generation.json``) and its labels, each target is regressed,
under the same leave-one-subject-out folds as training, on:

- ``state``: the true gait state of the labelled stride (what the loads were made from);
- ``imu``: the ridge baselines' IMU features and stride timing (what a wearable sees);
- ``body_mass``: body mass alone;
- ``imu_mass``: IMU features, timing and body mass;
- ``state_mass``: the true state and body mass (the most a wearable-plus-scale twin could know
  without the hidden per-runner factors);

once for the labels (MPa) and once for the labels per body mass (MPa/kg, the load per body weight
the IMU can see). The score is the out-of-sample R² of the pooled held-out predictions
(``1 - SSE / SST`` around the mean of all labels). Regression: ridge on standardised inputs, the
penalty chosen per target by subject-grouped inner CV on the training runners
(``footdt.learn.baselines.RidgeBaseline``). A linear read-out: a ceiling for linear learners and
a guide for the networks, not a proof about them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from footdt.learn.baselines import RidgeBaseline
from footdt.learn.dataset import Dataset
from footdt.learn.folds import loso_folds

INPUT_SETS = ("state", "imu", "body_mass", "imu_mass", "state_mass")
ALPHAS = tuple(10.0**e for e in range(-3, 5))


def gait_state(generation: dict[str, Any], ds: Dataset) -> tuple[np.ndarray, list[str]]:
    """(n, P) numeric true gait state of each sample's trial (its plate stride) and the names.

    Reads ``trials[T].plate_state`` of ``generation.json``; cohorts written before it existed
    give the trial's recorded speed, stride and stance time, strike index and GRF summary."""
    legacy = ("speed_m_s", "stride_s", "stance_s", "strike_index", "grf_peak_bw",
              "loading_rate_bw_s", "achilles_peak_bw")  # fmt: skip
    subjects = {s["id"]: s for s in generation["subjects"]}
    rows: list[dict[str, float]] = []
    for sid, tid in zip(ds.subject, ds.trial, strict=True):
        rec = subjects[str(sid)]["trials"][str(tid)]
        state = rec.get("plate_state") or {k: rec[k] for k in legacy if rec.get(k) is not None}
        rows.append({k: float(v) for k, v in state.items() if isinstance(v, int | float)})
    names = sorted(set.intersection(*(set(r) for r in rows)))
    return np.array([[r[k] for k in names] for r in rows]), names


def loso_r2(X: np.ndarray, Y: np.ndarray, ds: Dataset, seed: int = 0) -> np.ndarray:
    """(K,) out-of-sample R² of ridge on ``X`` under leave-one-subject-out (pooled)."""
    pred = np.empty_like(Y)
    for fold in loso_folds(ds):
        r = RidgeBaseline.fit(X, Y, ds.subject, fold.train_rows, alphas=ALPHAS, inner_folds=3,
                              seed=seed)  # fmt: skip
        pred[fold.test_rows] = r.predict(X[fold.test_rows])
    sst = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    return np.asarray(1.0 - ((pred - Y) ** 2).sum(axis=0) / np.maximum(sst, 1e-300))


def information_ceiling(
    ds: Dataset, generation: dict[str, Any], sets: Sequence[str] = INPUT_SETS
) -> dict[str, Any]:
    """Per target and input set, the LOSO R² for the labels and for the labels per body mass."""
    state, state_names = gait_state(generation, ds)
    mass = ds.body_mass_kg[:, None]
    inputs = {  # each built only when asked for
        "state": state, "imu": ds.ridge_features, "body_mass": mass,
        "imu_mass": np.column_stack([ds.ridge_features, mass]),
        "state_mass": np.column_stack([state, mass]),
    }  # fmt: skip
    out: dict[str, Any] = {"n_subjects": len(ds.subjects), "n_samples": ds.n,
                           "state_inputs": state_names, "imu_inputs": list(ds.ridge_feature_names),
                           "targets": {}}  # fmt: skip
    r2 = {scale: {name: loso_r2(inputs[name], Y, ds) for name in sets}
          for scale, Y in (("labels", ds.Y), ("per_kg", ds.Y / mass))}  # fmt: skip
    for k, t in enumerate(ds.targets):
        row: dict[str, Any] = {scale: {name: round(float(v[k]), 4) for name, v in by.items()}
                               for scale, by in r2.items()}  # fmt: skip
        lab = row["labels"]
        if "imu_mass" in lab and "body_mass" in lab:
            row["imu_gain_over_mass"] = round(lab["imu_mass"] - lab["body_mass"], 4)
        out["targets"][t] = row
    return out


def load_generation(cohort: str | Path) -> dict[str, Any]:
    path = Path(cohort) / "generation.json"
    if not path.is_file():
        from footdt.errors import FootdtError

        raise FootdtError(f"{path} not found: the information ceiling needs a synthetic cohort "
                          "made by `footdt cohort generate` (it records the true gait state)")  # fmt: skip
    data: dict[str, Any] = json.loads(path.read_text())
    return data
