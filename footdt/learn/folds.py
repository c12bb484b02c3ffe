"""Subject-grouped splits and standardisation fitted on training rows only.

Splits are scikit-learn's (``LeaveOneGroupOut`` for the outer folds, shuffled ``GroupKFold`` for
inner ones, ``GroupShuffleSplit`` for the early-stopping split) and standardisation is its
``StandardScaler``; the dataclasses here only record what was fitted on which rows, so
``footdt.learn.leakage`` can verify after the fact that no held-out subject reached it.

Targets are learned **per kilogram of body mass** by default (``target_scaling:
per_body_mass``): the network's standardised output ``z`` maps to
``mass x (mean_per_kg + sd_per_kg x z)``, so an output of 0 is exactly the body-mass baseline
(training mean of label / mass, times the runner's mass) and a network that finds nothing in the
IMU falls back to it instead of below it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

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
    """Fit per last-axis column over ``a[rows]`` (and any time axis): mean and SD (ddof 0),
    by scikit-learn's ``StandardScaler``.

    Columns with (near) zero spread get SD 1, so they pass through centred.
    """
    from sklearn.preprocessing import StandardScaler

    sub = np.asarray(a, dtype=np.float64)[rows]
    if sub.shape[-1] == 0:
        return Scaler(np.zeros(0), np.ones(0), np.asarray(rows))
    sc = StandardScaler().fit(sub.reshape(-1, sub.shape[-1]))
    mean, std = sc.mean_, np.sqrt(sc.var_)
    std = np.where(std > _MIN_STD * np.maximum(1.0, np.abs(mean)), std, 1.0)
    return Scaler(mean, std, np.asarray(rows))


@dataclass(frozen=True)
class FoldScalers:
    """Standardisation of IMU channels (over samples and time), targets and static inputs.

    With ``y_per_kg`` the target scaler holds the statistics of label / body mass (MPa/kg)."""

    x: Scaler
    y: Scaler
    static: Scaler
    y_per_kg: bool = False

    def targets_z(self, Y: np.ndarray, mass_kg: np.ndarray) -> np.ndarray:
        """Standardised targets (what the network learns) of labels ``Y`` (n, K) in MPa."""
        Y = np.asarray(Y, dtype=np.float64)
        return self.y.transform(Y / np.asarray(mass_kg, float)[:, None] if self.y_per_kg else Y)

    def to_mpa(self, z: np.ndarray, mass_kg: np.ndarray) -> np.ndarray:
        """Labels (n, K) in MPa of standardised network outputs ``z`` for runners of ``mass_kg``."""
        y = self.y.inverse(z)
        return y * np.asarray(mass_kg, float)[:, None] if self.y_per_kg else y

    def as_arrays(self) -> dict[str, np.ndarray]:
        out = {}
        for name in ("x", "y", "static"):
            s: Scaler = getattr(self, name)
            out[f"{name}_mean"], out[f"{name}_std"] = s.mean, s.std
        out["rows"] = self.x.rows
        out["y_per_kg"] = np.array(self.y_per_kg)
        return out

    @classmethod
    def from_arrays(cls, z: Mapping[str, np.ndarray]) -> FoldScalers:
        """Scalers saved by ``as_arrays`` (files without ``y_per_kg`` scale targets in MPa)."""
        rows = np.asarray(z["rows"])
        per_kg = bool(z["y_per_kg"]) if "y_per_kg" in z else False
        x, y, st = (Scaler(np.asarray(z[f"{k}_mean"]), np.asarray(z[f"{k}_std"]), rows)
                    for k in ("x", "y", "static"))  # fmt: skip
        return cls(x, y, st, y_per_kg=per_kg)


def fit_fold_scalers(ds: Dataset, train_rows: np.ndarray, *, per_kg: bool = False) -> FoldScalers:
    """Scalers fitted on the training rows only (the one place a fold's statistics come from);
    ``per_kg``: targets as label / body mass."""
    rows = np.asarray(train_rows)
    y = ds.Y / ds.body_mass_kg[:, None] if per_kg else ds.Y
    return FoldScalers(
        x=fit_scaler(ds.X, rows), y=fit_scaler(y, rows), static=fit_scaler(ds.static, rows),
        y_per_kg=per_kg,
    )  # fmt: skip


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
    """One fold per subject, in cohort order (scikit-learn's ``LeaveOneGroupOut``)."""
    from sklearn.model_selection import LeaveOneGroupOut

    order = {s: i for i, s in enumerate(ds.subjects)}
    folds = [
        Fold(0, str(ds.subject[test[0]]), train, test)
        for train, test in LeaveOneGroupOut().split(ds.subject, groups=ds.subject)
    ]
    folds.sort(key=lambda f: order[f.held_out])
    return [replace(f, index=i) for i, f in enumerate(folds)]


def grouped_kfold(subjects: Sequence[str], k: int, seed: int) -> list[tuple[list[str], list[str]]]:
    """``k`` (train subjects, validation subjects) splits: each subject validates exactly once
    (scikit-learn's ``GroupKFold``, shuffled with ``seed``, on the sorted distinct subjects), so
    the splits depend only on the subject set and the seed (a resumed tuning study sees the same
    splits). With fewer subjects than ``k``, there are as many splits as subjects.
    """
    from sklearn.model_selection import GroupKFold

    uniq = np.array(sorted(set(subjects)))
    if len(uniq) < 2:
        raise ValueError(f"need >= 2 subjects for an inner split, got {uniq.tolist()}")
    cv = GroupKFold(n_splits=min(k, len(uniq)), shuffle=True, random_state=seed)
    return [(sorted(uniq[tr].tolist()), sorted(uniq[va].tolist()))
            for tr, va in cv.split(uniq, groups=uniq)]  # fmt: skip


def early_stopping_split(
    subjects: Sequence[str], fraction: float, seed: int
) -> tuple[list[str], list[str]] | None:
    """(fit subjects, early-stopping subjects) of a training fold, ``fraction`` of its subjects
    (at least one) held for early stopping (scikit-learn's ``GroupShuffleSplit``); ``None`` with
    fewer than 3 subjects (too few to spare one)."""
    from sklearn.model_selection import GroupShuffleSplit

    uniq = np.array(sorted(set(subjects)))
    if len(uniq) < 3:
        return None
    n_val = min(len(uniq) - 2, max(1, round(fraction * len(uniq))))
    split = GroupShuffleSplit(n_splits=1, test_size=n_val, random_state=seed)
    tr, va = next(split.split(uniq, groups=uniq))
    return sorted(uniq[tr].tolist()), sorted(uniq[va].tolist())
