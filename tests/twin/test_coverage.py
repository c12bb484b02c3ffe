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

from footdt.gait.checks import analyse
from footdt.twin.predict import (
    load_twin,
    predict_recording,
    read_for_twin,
    tibia_tilt_deg,
)
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
        # the leg is known (the generator's right leg): strides as predict finds them, without
        # the tibia-tilt side check, which refuses some of the one-gait-state generator's runners
        # (test_side_check_on_generated_right_legs); coverage is what this test is about
        events, _ = analyse(rec, strict=True)
        y = np.array([tc.labels[key][t.name] for t in twin.targets])
        labels.append(y)
        for method in hits:
            p = predict_recording(twin, rec, events, method=method,  # type: ignore[arg-type]
                                  static={"body_mass": mass[key[0]]})  # fmt: skip
            hits[method].append((p.recording_lower_mpa <= y) & (y <= p.recording_upper_mpa))
            widths[method].append(p.recording_upper_mpa - p.recording_lower_mpa)
    out = {m: (np.array(hits[m]), np.array(widths[m])) for m in hits}
    return {**out, "labels": (np.array(labels), np.array(labels))}


@pytest.fixture(scope="module")
def coverage_runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    from footdt.learn.runtime import setup_tensorflow

    setup_tensorflow(deterministic=True)
    root = tmp_path_factory.mktemp("coverage")
    return [coverage(root / f"seed{s}", s) for s in (1, 2)]


def _check(runs: list[dict], method: str) -> None:
    per_seed = [float(r[method][0].mean()) for r in runs]
    pooled = float(np.mean(per_seed))
    w = np.concatenate([r[method][1] for r in runs])
    y = np.concatenate([r["labels"][0] for r in runs])
    print(
        f"{method}: coverage per cohort {np.round(per_seed, 3)}, pooled {pooled:.3f}; "
        f"median width {np.round(np.median(w, axis=0), 2)} MPa, label range "
        f"{np.round(np.ptp(y, axis=0), 2)} MPa"
    )
    assert np.isfinite(w).all()  # 40 calibration trials support 90 % (an infinite bound
    # would cover everything and fail the pooled check below)
    assert abs(pooled - NOMINAL) <= 0.05, (method, per_seed)


@pytest.mark.slow
def test_cv_plus_interval_coverage_on_new_runners(coverage_runs: list[dict]) -> None:
    _check(coverage_runs, "cv+")


@pytest.mark.slow
@pytest.mark.xfail(
    reason="known: after the learner rebuild (per-kg targets, shrinkage to body mass) split "
    "conformal over-covers new runners (pooled 0.956 for nominal 0.90, seeds 1 and 2): "
    "conservative, not yet explained",
    strict=False,
)
def test_split_interval_coverage_on_new_runners(coverage_runs: list[dict]) -> None:
    _check(coverage_runs, "split")


@pytest.mark.slow
@pytest.mark.xfail(
    reason="known defect: on the one-gait-state generator the tibia's mid-stance frontal tilt of "
    "some right legs is near 0 or lateral (e.g. -12 and -30 deg with a 10 deg medial roll), very "
    "sensitive to where the detected stance puts the 35-55 % window; the generator's frontal-plane "
    "tibia kinematics or the side check must change (issues 12/14)",
    strict=False,
)
def test_side_check_on_generated_right_legs(tmp_path: Path) -> None:
    """Every generated (right-leg) recording's tibia tilts medially at mid-stance."""
    from footdt.gait.recording import Recording
    from tests.twin.conftest import _generate

    d, gen = _generate(tmp_path, "new", 20, 2, 6, 1001)
    tilts = []
    for s in gen["subjects"]:
        for tid in s["trials"]:
            z = np.load(d / s["id"] / tid / "imu.npz")
            data, rate = z["recording"].astype(float), float(z["recording_rate_hz"])
            rec = Recording(np.arange(len(data)) / rate, rate,
                            {"foot": data[:, :3], "tibia": data[:, 3:]}, source=s["id"])  # fmt: skip
            events, _ = analyse(rec, strict=False)
            tilts.append(tibia_tilt_deg(rec, events))
    assert min(tilts) > 5.0, sorted(tilts)[:5]
