"""Baselines: hand values, ridge alpha chosen inside the training rows, ridge beats mean on IMU-driven labels."""

from __future__ import annotations

import numpy as np

from footdt.learn.baselines import (
    BASELINES,
    BodyMassBaseline,
    MeanBaseline,
    RidgeBaseline,
    fit_baselines,
    predict_baselines,
)
from footdt.learn.dataset import load_dataset
from footdt.learn.folds import loso_folds
from tests.learn.conftest import tiny_spec
from tests.learn.synthetic import make_cohort


def test_mean_and_body_mass_by_hand() -> None:
    Y = np.array([[10.0, 1.0], [20.0, 3.0], [99.0, 99.0]])
    mass = np.array([50.0, 100.0, 70.0])
    rows = np.array([0, 1])
    m = MeanBaseline.fit(Y, rows)
    np.testing.assert_allclose(m.predict(2), [[15.0, 2.0], [15.0, 2.0]])
    b = BodyMassBaseline.fit(Y, mass, rows)
    np.testing.assert_allclose(b.per_kg, [0.2, 0.025])  # mean(10/50, 20/100), mean(1/50, 3/100)
    np.testing.assert_allclose(b.predict(np.array([80.0])), [[16.0, 2.0]])


def test_ridge_recovers_a_linear_law_and_ignores_other_rows() -> None:
    rng = np.random.default_rng(0)
    F = rng.normal(size=(60, 3))
    Y = np.stack([2 * F[:, 0] - F[:, 1] + 5, 0.01 * rng.normal(size=60)], axis=1)
    subject = np.repeat([f"S{i}" for i in range(20)], 3)
    rows = np.arange(45)
    r = RidgeBaseline.fit(F, Y, subject, rows, alphas=[1e-3, 1.0, 1e3], inner_folds=3, seed=0)
    np.testing.assert_allclose(r.predict(F[45:])[:, 0], Y[45:, 0], atol=0.05)
    assert r.alpha[0] == 1e-3  # a clean linear law wants the least penalty
    assert r.alpha[1] >= 1.0  # pure noise wants a large one
    Y2 = Y.copy()
    Y2[45:] = 1e6  # held-out labels must not matter
    r2 = RidgeBaseline.fit(F, Y2, subject, rows, alphas=[1e-3, 1.0, 1e3], inner_folds=3, seed=0)
    np.testing.assert_array_equal(r.coef, r2.coef)


def test_ridge_beats_mean_when_labels_follow_the_imu(tmp_path) -> None:
    syn = make_cohort(tmp_path, n_subjects=12, imu_weight=0.9, noise=0.02)
    ds = load_dataset(tiny_spec(), syn.store, syn.cohort)
    err: dict[str, list[np.ndarray]] = {k: [] for k in BASELINES}
    for fold in loso_folds(ds):
        fitted = fit_baselines(ds.features, ds.Y, ds.body_mass_kg, ds.subject, fold.train_rows,
                               alphas=[0.01, 0.1, 1, 10, 100], seed=0)  # fmt: skip
        pred = predict_baselines(
            fitted, ds.features[fold.test_rows], ds.body_mass_kg[fold.test_rows]
        )
        for k, p in pred.items():
            err[k].append((p - ds.Y[fold.test_rows]) ** 2)
    rmse = {k: np.sqrt(np.concatenate(v).mean(axis=0)) for k, v in err.items()}
    assert (rmse["ridge"] < 0.7 * rmse["mean"]).all(), rmse
    assert (rmse["ridge"] < rmse["body_mass"]).all(), rmse


def test_ridge_mass_learns_load_per_kg_and_falls_back_to_body_mass() -> None:
    """Labels = mass x (a + b x feature): ridge_mass recovers them; with an uninformative
    feature and a large penalty it returns the body-mass baseline."""
    rng = np.random.default_rng(1)
    n = 60
    mass = rng.uniform(50, 90, n)
    f = rng.normal(size=(n, 2))
    Y = (mass * (0.1 + 0.03 * f[:, 0]))[:, None]
    subject = np.repeat([f"S{i}" for i in range(20)], 3)
    rows = np.arange(45)
    r = RidgeBaseline.fit(f, Y, subject, rows, alphas=[1e-3, 1.0], inner_folds=3, seed=0,
                          mass_kg=mass)  # fmt: skip
    np.testing.assert_allclose(r.predict(f[45:], mass[45:]), Y[45:], rtol=1e-3)
    noise = rng.normal(size=(n, 2))
    flat = RidgeBaseline.fit(noise, Y, subject, rows, alphas=[1e9], inner_folds=3, seed=0,
                             mass_kg=mass)  # fmt: skip
    bm = BodyMassBaseline.fit(Y, mass, rows)
    np.testing.assert_allclose(
        flat.predict(noise[45:], mass[45:]), bm.predict(mass[45:]), rtol=1e-4
    )
