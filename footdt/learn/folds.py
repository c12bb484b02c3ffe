"""Subject-grouped splits and standardisation fitted on training rows only.

Every fitted object records the rows it was fitted on, so ``footdt.learn.leakage`` can verify
after the fact that no held-out subject reached it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from footdt.learn.dataset import Dataset

_MIN_STD = 1e-8


@dataclass(frozen=True)
class Scaler:
    """z = (a - mean) / std over the leading axes; ``rows`` are the dataset rows it was fitted on."""

    mean: np.ndarray
    std: np.ndarray
    rows: np.ndarray

    def transform(self, a: np.ndarray) -> np.ndarray:
        return ((np.asarray(a, dtype=np.float64) - self.mean) / self.std).astype(np.float32)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=np.float64) * self.std + self.mean


def fit_scaler(a: np.ndarray, rows: np.ndarray) -> Scaler:
    """Fit per last-axis column over ``a[rows]`` (and any time axis): mean and SD (ddof 0).

    Columns with (near) zero spread get SD 1, so they pass through centred.
    """
    sub = np.asarray(a, dtype=np.float64)[rows]
    axes = tuple(range(sub.ndim - 1))
    if sub.shape[-1] == 0:
        return Scaler(np.zeros(0), np.ones(0), np.asarray(rows))
    mean = sub.mean(axis=axes)
    std = sub.std(axis=axes)
    std = np.where(std > _MIN_STD * np.maximum(1.0, np.abs(mean)), std, 1.0)
    return Scaler(mean, std, np.asarray(rows))


@dataclass(frozen=True)
class FoldScalers:
    """Standardisation of IMU channels (over samples and time), targets and static inputs."""

    x: Scaler
    y: Scaler
    static: Scaler

    def as_arrays(self) -> dict[str, np.ndarray]:
        out = {}
        for name in ("x", "y", "static"):
            s: Scaler = getattr(self, name)
            out[f"{name}_mean"], out[f"{name}_std"] = s.mean, s.std
        out["rows"] = self.x.rows
        return out


def fit_fold_scalers(ds: Dataset, train_rows: np.ndarray) -> FoldScalers:
    """Scalers fitted on the training rows only (the one place a fold's statistics come from)."""
    rows = np.asarray(train_rows)
    return FoldScalers(
        x=fit_scaler(ds.X, rows), y=fit_scaler(ds.Y, rows), static=fit_scaler(ds.static, rows)
    )


@dataclass(frozen=True)
class Fold:
    """One leave-one-subject-out fold: the held-out subject and the row indices on each side."""

    index: int
    held_out: str
    train_rows: np.ndarray
    test_rows: np.ndarray

    def train_subjects(self, ds: Dataset) -> list[str]:
        return list(dict.fromkeys(ds.subject[self.train_rows].tolist()))


def loso_folds(ds: Dataset) -> list[Fold]:
    """One fold per subject, in cohort order."""
    folds = []
    for i, sid in enumerate(ds.subjects):
        test = np.flatnonzero(ds.subject == sid)
        train = np.flatnonzero(ds.subject != sid)
        folds.append(Fold(i, sid, train, test))
    return folds


def grouped_kfold(subjects: Sequence[str], k: int, seed: int) -> list[tuple[list[str], list[str]]]:
    """``k`` (train subjects, validation subjects) splits: each subject validates exactly once.

    Subjects are shuffled with ``seed`` then dealt round-robin, so the splits depend only on the
    subject list and the seed (a resumed tuning study sees the same splits). With fewer subjects
    than ``k``, there are as many splits as subjects.
    """
    uniq = sorted(set(subjects))
    if len(uniq) < 2:
        raise ValueError(f"need >= 2 subjects for an inner split, got {uniq}")
    order = np.random.default_rng(seed).permutation(len(uniq))
    k = min(k, len(uniq))
    buckets: list[list[str]] = [[] for _ in range(k)]
    for pos, i in enumerate(order):
        buckets[pos % k].append(uniq[i])
    return [(sorted(set(uniq) - set(val)), sorted(val)) for val in buckets]
