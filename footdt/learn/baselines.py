"""Baselines that run beside every model (DESIGN.md "Learning, honestly").

- ``mean``: the training-set mean of each target (MPa);
- ``body_mass``: the training mean of label / body mass (MPa/kg) times the subject's mass;
- ``ridge``: ridge regression on simple IMU features (``features.py``) and stride timing
  (``footdt.gait.timing``), features standardised on the training rows, the penalty chosen per
  target by leave-one-runner-out CV inside the training subjects only (ridge fits are cheap; on
  four subsets of a 50-runner cohort it gave the read-out the lowest mean of median RMSEs of 3,
  5 and one-runner inner folds, though not on every subset: ``benchmarks/bench_readout_cv.py``);
- ``ridge_mass``: the same features plus body mass, regressing label / body mass and scaling
  back by the runner's mass (it contains the ``body_mass`` baseline).

A network that does not beat ``body_mass`` has not shown that it uses the IMU; one that does not
beat ``ridge_mass`` has not shown that it needs to be a network. Everything fitted here is
scikit-learn's (scalers, ridge, grouped folds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from footdt.learn.folds import grouped_kfold

BASELINES = ("mean", "body_mass", "ridge", "ridge_mass")


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


@dataclass(frozen=True)
class RidgeBaseline:
    """Ridge on standardised features (scikit-learn ``StandardScaler`` + ``Ridge``), one
    penalty per target chosen by subject-grouped inner CV (``GroupKFold``) on the training rows:
    ``inner_folds`` folds, or one per subject (leave-one-runner-out) when it is ``None``.

    With ``with_mass`` (the ``ridge_mass`` baseline) body mass is one more feature and the
    regression is of label / body mass (MPa/kg), multiplied back by the runner's mass: with all
    coefficients 0 it is exactly the body-mass baseline."""

    model: Any = field(repr=False)  # fitted sklearn Pipeline
    alpha: np.ndarray  # (K,)
    rows: np.ndarray
    cv_mse: np.ndarray = field(repr=False)  # (A, K) inner-CV MSE per alpha and target
    with_mass: bool = False

    @property
    def coef(self) -> np.ndarray:
        """(P, K) coefficients on the standardised features."""
        return np.asarray(self.model[-1].coef_, float).reshape(len(self.alpha), -1).T

    @staticmethod
    def _design(F: np.ndarray, mass_kg: np.ndarray | None) -> np.ndarray:
        F = np.asarray(F, float)
        return F if mass_kg is None else np.column_stack([F, np.asarray(mass_kg, float)])

    @classmethod
    def fit(
        cls,
        F: np.ndarray,
        Y: np.ndarray,
        subject: np.ndarray,
        rows: np.ndarray,
        *,
        alphas: Sequence[float],
        inner_folds: int | None,
        seed: int,
        mass_kg: np.ndarray | None = None,
    ) -> RidgeBaseline:
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        rows = np.asarray(rows)
        alphas_arr = np.asarray(alphas, float)
        X = cls._design(F, mass_kg)[rows]
        m = None if mass_kg is None else np.asarray(mass_kg, float)[rows]
        T = np.asarray(Y, float)[rows] / (1.0 if m is None else m[:, None])
        sse = np.zeros((len(alphas_arr), T.shape[1]))
        groups = subject[rows].tolist()
        k = len(set(groups)) if inner_folds is None else inner_folds
        n_a, n_t = len(alphas_arr), T.shape[1]
        # every penalty in one fit: the targets repeated once per penalty, scikit-learn's
        # per-target penalties (SVD solver: one decomposition per inner fold)
        per_target = np.repeat(alphas_arr, n_t)
        for tr_sub, va_sub in grouped_kfold(groups, k, seed):
            tr, va = np.isin(subject[rows], tr_sub), np.isin(subject[rows], va_sub)
            pipe = make_pipeline(StandardScaler(), Ridge(alpha=per_target, solver="svd"))
            pipe.fit(X[tr], np.tile(T[tr], (1, n_a)))
            pred = pipe.predict(X[va]).reshape(int(va.sum()), n_a, n_t)
            scale = 1.0 if m is None else m[va, None, None]  # errors in MPa either way
            sse += (((pred - T[va][:, None, :]) * scale) ** 2).sum(axis=0)
        best = alphas_arr[sse.argmin(axis=0)]
        model = make_pipeline(StandardScaler(), Ridge(alpha=best, solver="svd")).fit(X, T)
        return cls(model, best, rows, sse / len(rows), with_mass=mass_kg is not None)

    def predict(self, F: np.ndarray, mass_kg: np.ndarray | None = None) -> np.ndarray:
        if self.with_mass and mass_kg is None:
            raise ValueError("the ridge_mass baseline needs the runners' body mass")
        X = self._design(F, mass_kg if self.with_mass else None)
        out = np.asarray(self.model.predict(X), float).reshape(len(X), -1)
        return out * np.asarray(mass_kg, float)[:, None] if self.with_mass else out


def fit_baselines(
    F: np.ndarray,
    Y: np.ndarray,
    mass_kg: np.ndarray,
    subject: np.ndarray,
    rows: np.ndarray,
    *,
    alphas: Sequence[float],
    seed: int,
    inner_folds: int | None = None,
) -> dict[str, MeanBaseline | BodyMassBaseline | RidgeBaseline]:
    """The four baselines fitted on ``rows`` (training rows of one fold); ridge penalties by
    leave-one-runner-out inner CV unless ``inner_folds`` says otherwise."""
    kw = {"alphas": alphas, "inner_folds": inner_folds, "seed": seed}
    return {
        "mean": MeanBaseline.fit(Y, rows),
        "body_mass": BodyMassBaseline.fit(Y, mass_kg, rows),
        "ridge": RidgeBaseline.fit(F, Y, subject, rows, **kw),  # type: ignore[arg-type]
        "ridge_mass": RidgeBaseline.fit(F, Y, subject, rows, mass_kg=mass_kg, **kw),  # type: ignore[arg-type]
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
            out[name] = b.predict(F, mass_kg)
    return out
