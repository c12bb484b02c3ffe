"""Baselines that run beside every model (DESIGN.md "Learning, honestly").

- ``mean``: the training-set mean of each target (MPa);
- ``body_mass``: the training mean of label / body mass (MPa/kg) times the subject's mass;
- ``ridge``: ridge regression on simple IMU features (``features.py``), features standardised on
  the training rows, the penalty chosen per target by subject-grouped CV inside the training
  subjects only.

A network that does not beat ``body_mass`` has not shown that it uses the IMU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from footdt.learn.folds import fit_scaler, grouped_kfold

BASELINES = ("mean", "body_mass", "ridge")


@dataclass(frozen=True)
class MeanBaseline:
    value: np.ndarray  # (K,) MPa
    rows: np.ndarray

    @classmethod
    def fit(cls, Y: np.ndarray, rows: np.ndarray) -> MeanBaseline:
        return cls(np.asarray(Y, float)[rows].mean(axis=0), np.asarray(rows))

    def predict(self, n: int) -> np.ndarray:
        return np.tile(self.value, (n, 1))


@dataclass(frozen=True)
class BodyMassBaseline:
    per_kg: np.ndarray  # (K,) MPa/kg
    rows: np.ndarray

    @classmethod
    def fit(cls, Y: np.ndarray, mass_kg: np.ndarray, rows: np.ndarray) -> BodyMassBaseline:
        ratio = np.asarray(Y, float)[rows] / np.asarray(mass_kg, float)[rows, None]
        return cls(ratio.mean(axis=0), np.asarray(rows))

    def predict(self, mass_kg: np.ndarray) -> np.ndarray:
        return np.asarray(mass_kg, float)[:, None] * self.per_kg[None, :]


def _ridge_path(F: np.ndarray, Y: np.ndarray, alphas: Sequence[float] | np.ndarray) -> np.ndarray:
    """Coefficients (A, P, K) for every alpha of centred data, via one SVD."""
    u, s, vt = np.linalg.svd(F, full_matrices=False)
    uty = u.T @ Y  # (r, K)
    coefs = [vt.T @ ((s / (s**2 + a))[:, None] * uty) for a in alphas]
    return np.stack(coefs)


@dataclass(frozen=True)
class RidgeBaseline:
    """Ridge on standardised features; one penalty per target (chosen by inner grouped CV)."""

    f_mean: np.ndarray
    f_std: np.ndarray
    y_mean: np.ndarray
    coef: np.ndarray  # (P, K)
    alpha: np.ndarray  # (K,)
    rows: np.ndarray
    cv_mse: np.ndarray = field(repr=False)  # (A, K) inner-CV MSE per alpha and target

    @classmethod
    def fit(
        cls,
        F: np.ndarray,
        Y: np.ndarray,
        subject: np.ndarray,
        rows: np.ndarray,
        *,
        alphas: Sequence[float],
        inner_folds: int,
        seed: int,
    ) -> RidgeBaseline:
        rows = np.asarray(rows)
        alphas_arr = np.asarray(alphas, float)
        sse = np.zeros((len(alphas_arr), Y.shape[1]))
        splits = grouped_kfold(subject[rows].tolist(), inner_folds, seed)
        for tr_sub, va_sub in splits:
            tr = rows[np.isin(subject[rows], tr_sub)]
            va = rows[np.isin(subject[rows], va_sub)]
            model = cls._fit_fixed(F, Y, tr, alphas_arr)
            for a in range(len(alphas_arr)):
                pred = model._predict_with(F[va], a)
                sse[a] += ((pred - Y[va]) ** 2).sum(axis=0)
        best = sse.argmin(axis=0)
        full = cls._fit_fixed(F, Y, rows, alphas_arr)
        coef = full.coef[best, :, np.arange(Y.shape[1])].T  # (P, K)
        return cls(
            full.f_mean, full.f_std, full.y_mean, coef, alphas_arr[best], rows, sse / len(rows)
        )

    @classmethod
    def _fit_fixed(
        cls, F: np.ndarray, Y: np.ndarray, rows: np.ndarray, alphas: np.ndarray
    ) -> RidgeBaseline:
        sc = fit_scaler(F, rows)
        Fz = (np.asarray(F, float)[rows] - sc.mean) / sc.std
        y_mean = np.asarray(Y, float)[rows].mean(axis=0)
        coefs = _ridge_path(Fz, np.asarray(Y, float)[rows] - y_mean, alphas)
        return cls(sc.mean, sc.std, y_mean, coefs, alphas, rows, np.zeros(0))

    def _predict_with(self, F: np.ndarray, a: int) -> np.ndarray:
        return ((np.asarray(F, float) - self.f_mean) / self.f_std) @ self.coef[a] + self.y_mean

    def predict(self, F: np.ndarray) -> np.ndarray:
        return ((np.asarray(F, float) - self.f_mean) / self.f_std) @ self.coef + self.y_mean


def fit_baselines(
    F: np.ndarray,
    Y: np.ndarray,
    mass_kg: np.ndarray,
    subject: np.ndarray,
    rows: np.ndarray,
    *,
    alphas: Sequence[float],
    inner_folds: int,
    seed: int,
) -> dict[str, MeanBaseline | BodyMassBaseline | RidgeBaseline]:
    """The three baselines fitted on ``rows`` (training rows of one fold)."""
    return {
        "mean": MeanBaseline.fit(Y, rows),
        "body_mass": BodyMassBaseline.fit(Y, mass_kg, rows),
        "ridge": RidgeBaseline.fit(
            F, Y, subject, rows, alphas=alphas, inner_folds=inner_folds, seed=seed
        ),
    }


def predict_baselines(
    fitted: dict[str, MeanBaseline | BodyMassBaseline | RidgeBaseline],
    F: np.ndarray,
    mass_kg: np.ndarray,
) -> dict[str, np.ndarray]:
    """Predictions (n, K) in MPa of each fitted baseline for samples with features/mass."""
    out = {}
    for name, b in fitted.items():
        if isinstance(b, MeanBaseline):
            out[name] = b.predict(len(mass_kg))
        elif isinstance(b, BodyMassBaseline):
            out[name] = b.predict(mass_kg)
        else:
            out[name] = b.predict(F)
    return out
