"""Strides outside the training distribution: Mahalanobis distance of stride summary features.

Features of one stride window (``stride_features``; windows are (n, 300, channels) in m/s^2):

- the ridge baseline's IMU features (``footdt.learn.features``): peak |a| per sensor and axis
  (m/s^2), the initial-contact loading rate (m/s^3 with stance times) and the stance time (s);
- the mean of every channel over each of the three stance phases (m/s^2): gravity's direction
  in each sensor, so a sensor mounted differently from the training cohort shows up.

The reference is the run's own training strides (every stride window of every subject of the
run, read from its cohort). Features are standardised with the reference mean and SD; the
covariance of the standardised features is shrunk towards a scaled identity with the
Ledoit-Wolf (2004, J Multivar Anal 88:365) optimal weight, so it stays invertible with few
subjects. The flag threshold is the ``quantile`` (0.99) of **leave-one-subject-out** distances:
each training subject's strides measured against the mean and covariance of the other
subjects. In-sample distances would be too small (the subject helped fit the covariance), so
a new runner from the training population would be flagged far more often than 1 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from footdt.errors import FootdtError
from footdt.learn.features import imu_features

DEFAULT_QUANTILE = 0.99
PHASE_NAMES = ("ic", "ms", "po")


class OodError(FootdtError):
    """The out-of-distribution reference cannot be built."""


def stride_features(
    windows: np.ndarray,
    channels: Sequence[str],
    stance_s: np.ndarray | None,
    samples_per_phase: int,
) -> tuple[np.ndarray, list[str]]:
    """(n, F) summary features of stride windows (n, 3 * samples_per_phase, len(channels))."""
    w = np.asarray(windows, dtype=np.float64)
    base, names = imu_features(w, channels, stance_s, samples_per_phase)
    means = [
        w[:, k * samples_per_phase : (k + 1) * samples_per_phase, :].mean(axis=1) for k in range(3)
    ]
    names = [*names, *(f"{c}_mean_{p}" for p in PHASE_NAMES for c in channels)]
    return np.concatenate([base, *means], axis=1), names


def _fit(f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, sd, precision of the standardised features) of rows ``f``."""
    mean = f.mean(axis=0)
    sd = f.std(axis=0)
    sd = np.where(sd > 1e-8 * np.maximum(1.0, np.abs(mean)), sd, 1.0)
    z = (f - mean) / sd
    from sklearn.covariance import ledoit_wolf  # shrunk covariance: few strides, many features

    cov = ledoit_wolf(z - z.mean(axis=0), assume_centered=True)[0]
    scale = max(float(np.trace(cov)) / len(cov), 1e-12)
    return mean, sd, np.linalg.pinv(cov + 1e-9 * scale * np.eye(len(cov)), hermitian=True)


def _distance(f: np.ndarray, mean: np.ndarray, sd: np.ndarray, prec: np.ndarray) -> np.ndarray:
    z = (np.asarray(f, dtype=float) - mean) / sd
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", z, prec, z), 0.0))


@dataclass(frozen=True)
class OodReference:
    """Training-stride reference: feature names, standardisation, precision, threshold."""

    names: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray
    precision: np.ndarray
    threshold: float  # Mahalanobis distance (standardised-feature units)
    quantile: float
    n_rows: int
    n_subjects: int

    def distance(self, features: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of feature rows (n, F) to the training strides."""
        return _distance(features, self.mean, self.sd, self.precision)

    def flags(self, features: np.ndarray) -> np.ndarray:
        """True for rows farther than the threshold."""
        return self.distance(features) > self.threshold


def fit_reference(
    features: np.ndarray,
    subjects: Sequence[str],
    names: Sequence[str],
    quantile: float = DEFAULT_QUANTILE,
) -> OodReference:
    """Reference from training rows; the threshold from leave-one-subject-out distances."""
    f = np.asarray(features, dtype=float)
    subj = np.asarray(subjects)
    uniq = list(dict.fromkeys(subj.tolist()))
    if len(uniq) < 2:
        raise OodError(f"the OOD reference needs strides of >= 2 subjects, got {uniq}")
    if not np.isfinite(f).all():
        raise OodError("training stride features hold NaN/inf; check the cohort's IMU windows")
    loso = np.concatenate([_distance(f[subj == s], *_fit(f[subj != s])) for s in uniq])
    mean, sd, prec = _fit(f)
    threshold = float(np.quantile(loso, quantile, method="higher"))
    return OodReference(tuple(names), mean, sd, prec, threshold, quantile, len(f), len(uniq))


@dataclass(frozen=True)
class TrainingStrides:
    """Summary features of every stride window of a run's subjects in their cohort."""

    features: np.ndarray  # (n_strides, F)
    names: list[str]
    subjects: np.ndarray  # (n_strides,) subject id of each row
    n_trials: int
    with_stance: bool  # the cohort's files carry stance times (features use them)


def training_strides(
    cohort_dir: str | Path, subjects: Sequence[str], channels: Sequence[str], samples_per_phase: int
) -> TrainingStrides:
    """Read the stride windows of ``subjects`` (checked as for training) and their features."""
    from footdt.cohort.manifest import WINDOW_CHANNELS, load_manifest
    from footdt.learn.dataset import read_windows

    manifest = load_manifest(cohort_dir)
    have = {s.id: s for s in manifest.subjects}
    missing = [s for s in subjects if s not in have]
    if missing:
        raise OodError(
            f"{cohort_dir}: subject(s) {', '.join(missing[:5])} of the run are not in this cohort; "
            "pass the cohort the run was trained on (--cohort)"
        )
    idx = [WINDOW_CHANNELS.index(c) for c in channels]
    rows, subj, with_stance = [], [], set()
    names: list[str] = []
    n_trials = 0
    for sid in subjects:
        for trial in have[sid].trials:
            w, stance = read_windows(Path(cohort_dir), have[sid], trial, 3 * samples_per_phase)
            with_stance.add(stance is not None)
            f, names = stride_features(w[:, :, idx], channels, stance, samples_per_phase)
            rows.append(f)
            subj += [sid] * len(f)
            n_trials += 1
    if len(with_stance) > 1:
        raise OodError(f"{cohort_dir}: some IMU files carry stance_time_s and some do not")
    return TrainingStrides(np.concatenate(rows), names, np.asarray(subj), n_trials,
                           with_stance == {True})  # fmt: skip
