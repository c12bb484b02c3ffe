"""Learners that cannot fall below body mass: per-kg targets, a zero-initialised output, early
stopping on training runners only."""

from __future__ import annotations

import numpy as np

from footdt.learn.architectures import build_network, resolve_hyperparameters
from footdt.learn.baselines import BodyMassBaseline, MeanBaseline
from footdt.learn.dataset import load_dataset
from footdt.learn.folds import early_stopping_split, fit_fold_scalers
from footdt.learn.trainer import fold_arrays, predict, train_and_predict
from tests.learn.conftest import tiny_spec
from tests.learn.synthetic import Synthetic


def test_an_untrained_network_is_the_body_mass_baseline(
    small_cohort: Synthetic, tf_ready: object
) -> None:
    """Before any training step the output is 0, i.e. exactly training mean(label/mass) x mass;
    with target_scaling standard it is the training mean."""
    ds = load_dataset(tiny_spec(static_features=["body_mass", "contact_time"]), small_cohort.store,
                      small_cohort.cohort)  # fmt: skip
    train, test = ds.rows_of(ds.subjects[:6]), ds.rows_of(ds.subjects[6:])
    for per_kg, baseline in ((True, BodyMassBaseline.fit(ds.Y, ds.body_mass_kg, train).predict(ds.body_mass_kg[test])),
                             (False, MeanBaseline.fit(ds.Y, train).predict(len(test)))):  # fmt: skip
        sc = fit_fold_scalers(ds, train, per_kg=per_kg)
        net = build_network("lstm", n_steps=300, n_channels=6, n_targets=ds.Y.shape[1], n_static=2,
                            hp={"units": 4, "dense_units": 4})  # fmt: skip
        z = predict(net, fold_arrays(ds, test, sc, labels=False))
        np.testing.assert_allclose(sc.to_mpa(z, ds.body_mass_kg[test]), baseline, rtol=1e-6)


def test_early_stopping_watches_training_runners_only_and_keeps_the_best_epoch(
    small_cohort: Synthetic, tf_ready: object
) -> None:
    spec = tiny_spec(static_features=["body_mass"], hyperparameters={"epochs": 12},
                     validation={"early_stopping_patience": 3})  # fmt: skip
    ds = load_dataset(spec, small_cohort.store, small_cohort.cohort)
    held = ds.subjects[0]
    train, test = ds.rows_of(ds.subjects[1:]), ds.rows_of([held])
    hp = resolve_hyperparameters(spec.model.hyperparameters)
    out = train_and_predict(spec, ds, train, test, hp, seed=3, score=False)
    assert out.stop_subjects and held not in out.stop_subjects
    assert set(out.stop_subjects) < set(ds.subjects[1:])
    h = out.history
    assert h.best_epoch == int(np.argmin(h.stop_loss)) + 1
    assert len(h.train_loss) == len(h.stop_loss) <= 12
    # the kept weights are the best epoch's: scoring the stop runners again gives its loss
    stop_rows = ds.rows_of(list(out.stop_subjects))
    arr = fold_arrays(ds, stop_rows, out.scalers, labels=True)
    assert np.isclose(np.mean((predict(out.model, arr) - arr.y) ** 2), min(h.stop_loss), rtol=1e-4)


def test_early_stopping_split_is_seeded_and_leaves_enough_to_train() -> None:
    subjects = [f"S{i:02d}" for i in range(11)]
    a, b = (
        early_stopping_split(subjects, 0.2, seed=1),
        early_stopping_split(subjects[::-1], 0.2, seed=1),
    )
    assert a == b and a is not None
    assert len(a[1]) == 2 and not set(a[0]) & set(a[1]) and set(a[0]) | set(a[1]) == set(subjects)
    assert early_stopping_split(subjects, 0.2, seed=2) != a
    assert early_stopping_split(["a", "b"], 0.5, seed=0) is None
    fit, stop = early_stopping_split(["a", "b", "c"], 0.9, seed=0)  # type: ignore[misc]
    assert len(stop) == 1 and len(fit) == 2


def test_swapped_imu_moves_the_wearable_not_the_runner(small_cohort: Synthetic) -> None:
    from footdt.learn.controls import swap_runner_imu

    spec = tiny_spec(static_features=["body_mass", "contact_time"])
    ds = load_dataset(spec, small_cohort.store, small_cohort.cohort)
    sw, donor = swap_runner_imu(ds, seed=0)
    assert all(a != b for a, b in donor.items()) and sorted(donor.values()) == sorted(ds.subjects)
    for s, d in donor.items():
        mine, theirs = ds.rows_of([s]), ds.rows_of([d])
        np.testing.assert_array_equal(sw.X[mine], ds.X[theirs])
        np.testing.assert_array_equal(sw.static[mine, 1], ds.static[theirs, 1])  # timing moves
        np.testing.assert_array_equal(sw.static[mine, 0], ds.static[mine, 0])  # mass stays
        np.testing.assert_array_equal(sw.Y[mine], ds.Y[mine])  # labels stay
