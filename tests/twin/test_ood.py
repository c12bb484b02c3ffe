"""OOD reference: features, shrinkage, the leave-one-subject-out threshold."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.cohort.manifest import WINDOW_CHANNELS
from footdt.twin.ood import OodError, fit_reference, stride_features
from tests.learn.synthetic import stride_window

MIX = np.random.default_rng(0).normal(size=(6, 6)) / np.sqrt(6) + np.eye(6)


def _population(seed: int, n_subj: int, per: int) -> tuple[np.ndarray, np.ndarray]:
    """Correlated rows: a per-subject offset (between-subject spread) plus within-subject
    noise, mixed by one fixed matrix (the population)."""
    rng = np.random.default_rng(seed)
    offsets = rng.normal(0, 0.7, (n_subj, 6))
    rows = np.concatenate([(o + rng.normal(size=(per, 6))) @ MIX for o in offsets])
    return rows, np.repeat([f"S{i}" for i in range(n_subj)], per)


def test_new_subjects_from_the_training_population_are_rarely_flagged() -> None:
    f, subj = _population(1, 30, 20)
    ref = fit_reference(f, subj, [f"f{i}" for i in range(6)])
    assert ref.n_rows == 600 and ref.n_subjects == 30 and ref.quantile == 0.99
    in_sample = np.quantile(ref.distance(f), 0.99)
    assert ref.threshold > in_sample  # held-out subjects sit farther than the fitted rows
    rates = [ref.flags(_population(seed, 30, 20)[0]).mean() for seed in range(2, 7)]
    assert np.mean(rates) < 0.03  # nominal 1 %
    assert np.mean(ref.distance(_population(2, 30, 20)[0]) > in_sample) > np.mean(rates)
    shifted = f[:50].copy()
    shifted[:, 2] += 6 * f[:, 2].std()
    assert ref.flags(shifted).mean() > 0.95
    with pytest.raises(OodError, match=">= 2 subjects"):
        fit_reference(f, np.repeat("S0", len(f)), list("abcdef"))


def test_stride_features_carry_peaks_and_phase_means() -> None:
    rng = np.random.default_rng(2)
    w = np.stack([stride_window(rng, 1.0, True) for _ in range(3)])
    f, names = stride_features(w, WINDOW_CHANNELS, np.array([0.25, 0.26, 0.24]), 100)
    assert f.shape == (3, len(names)) == (3, 11 + 18)
    assert names[:2] == ["foot_peak_norm", "foot_ax_peak"] and "stance_time_s" in names
    k = names.index("tibia_az_mean_ms")
    np.testing.assert_allclose(f[:, k], w[:, 100:200, 5].astype(float).mean(axis=1))
    _, names = stride_features(w[:, :, :3], WINDOW_CHANNELS[:3], None, 100)
    assert "stance_time_s" not in names and not any(n.startswith("tibia") for n in names)
