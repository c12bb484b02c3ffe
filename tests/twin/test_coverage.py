"""Calibrated intervals on runners the run never saw: coverage within 5 points of nominal.

Two independent cohorts (seeds 1 and 2): each trains a 5-epoch cnn1d LOSO run on 20 generated
runners x 2 trials (40 calibration trials) and predicts 20 new runners x 2 trials generated
from the same cohort spec with another seed; coverage is the share of (trial, target) pairs
whose FE-style label lies in the recording-level 90 % interval. One cohort's coverage varies by
several points with 20 calibration runners (it is a marginal guarantee), so the check pools
both cohorts. About 70 s, hence slow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from footdt.twin.predict import load_twin, predict_recording, read_for_twin, resolve_side
from tests.twin.conftest import make_twin_cohort

NOMINAL = 0.9


def coverage(root: Path, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{method: (covered (n_trials, K) bool, interval widths (n_trials, K) MPa)} and, under
    ``labels``, the new runners' labels (n_trials, K) MPa."""
    tc = make_twin_cohort(root, n_train=20, n_held=20, trials=2, strides=6, seed=seed, epochs=5)
    twin = load_twin(tc.run)
    hits: dict[str, list[np.ndarray]] = {"cv+": [], "split": []}
    widths: dict[str, list[np.ndarray]] = {"cv+": [], "split": []}
    labels = []
    mass = {s.id: s.body_mass_kg for s in tc.new.subjects}  # the networks learn per kg
    for key, csv in tc.recordings.items():
        rec, _ = read_for_twin(twin, csv, side="right")
        rec, events, _, _ = resolve_side(rec, "right", twin)
        y = np.array([tc.labels[key][t.name] for t in twin.targets])
        labels.append(y)
        for method in hits:
            p = predict_recording(twin, rec, events, method=method,  # type: ignore[arg-type]
                                  static={"body_mass": mass[key[0]]})  # fmt: skip
            hits[method].append((p.recording_lower_mpa <= y) & (y <= p.recording_upper_mpa))
            widths[method].append(p.recording_upper_mpa - p.recording_lower_mpa)
    out = {m: (np.array(hits[m]), np.array(widths[m])) for m in hits}
    return {**out, "labels": (np.array(labels), np.array(labels))}


@pytest.mark.slow
def test_interval_coverage_on_new_runners(tmp_path: Path) -> None:
    from footdt.learn.runtime import setup_tensorflow

    setup_tensorflow(deterministic=True)
    runs = [coverage(tmp_path / f"seed{s}", s) for s in (1, 2)]
    for method in ("cv+", "split"):
        per_seed = [float(r[method][0].mean()) for r in runs]
        pooled = float(np.mean(per_seed))
        assert abs(pooled - NOMINAL) <= 0.05, (method, per_seed)
        w = np.concatenate([r[method][1] for r in runs])
        y = np.concatenate([r["labels"][0] for r in runs])
        assert np.isfinite(w).all()  # 40 calibration trials support 90 % (an infinite bound
        # would cover everything and fail the pooled check above)
        print(
            f"{method}: coverage per cohort {np.round(per_seed, 3)}, pooled {pooled:.3f}; "
            f"median width {np.round(np.median(w, axis=0), 2)} MPa, label range "
            f"{np.round(np.ptp(y, axis=0), 2)} MPa"
        )
