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
    # the kept weights are the best epoch's, then each target is shrunk towards the baseline
    # by the least-squares factor in [0, 1] on the same runners: their loss can only go down
    stop_rows = ds.rows_of(list(out.stop_subjects))
    arr = fold_arrays(ds, stop_rows, out.scalers, labels=True)
    after = float(np.mean((predict(out.model, arr) - arr.y) ** 2))
    assert after <= min(h.stop_loss) * (1 + 1e-5)
    assert h.shrinkage is not None and len(h.shrinkage) == ds.Y.shape[1]
    assert all(0.0 <= v <= 1.0 for v in h.shrinkage)


def test_shrinkage_is_the_least_squares_factor_on_held_aside_runners(tf_ready: object) -> None:
    from footdt.learn.trainer import Arrays, shrink_to_baseline

    net = build_network(
        "cnn1d", n_steps=30, n_channels=1, n_targets=3, hp={"filters": 2, "pool": 1}
    )
    kernel, bias = net.get_layer("y").get_weights()
    net.get_layer("y").set_weights([np.ones_like(kernel), np.ones_like(bias)])
    x = np.random.default_rng(0).normal(size=(8, 30, 1)).astype(np.float32)
    z = predict(net, Arrays(x, None))
    y = np.stack([0.5 * z[:, 0], -z[:, 1], 3.0 * z[:, 2]], axis=1)  # half, opposite, more
    lam = shrink_to_baseline(net, Arrays(x, None, y.astype(np.float32)))
    np.testing.assert_allclose(lam, [0.5, 0.0, 1.0], atol=1e-4)
    np.testing.assert_allclose(
        predict(net, Arrays(x, None)), z * np.array(lam), rtol=1e-4, atol=1e-6
    )


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

    spec = tiny_spec(static_features=["body_mass", "contact_time", "imu_summary"])
    ds = load_dataset(spec, small_cohort.store, small_cohort.cohort)
    assert ds.static_names[2:] == tuple(f"imu.{n}" for n in ds.feature_names)
    np.testing.assert_array_equal(ds.static[:, 2:], ds.features)
    sw, donor = swap_runner_imu(ds, seed=0)
    assert all(a != b for a, b in donor.items()) and sorted(donor.values()) == sorted(ds.subjects)
    for s, d in donor.items():
        mine, theirs = ds.rows_of([s]), ds.rows_of([d])
        np.testing.assert_array_equal(sw.X[mine], ds.X[theirs])
        np.testing.assert_array_equal(
            sw.static[mine, 1:], ds.static[theirs, 1:]
        )  # timing, IMU move
        np.testing.assert_array_equal(sw.static[mine, 0], ds.static[mine, 0])  # mass stays
        np.testing.assert_array_equal(sw.Y[mine], ds.Y[mine])  # labels stay


def test_an_untrained_network_with_a_readout_is_the_ridge_readout(
    small_cohort: Synthetic, tf_ready: object
) -> None:
    """model.readout: ridge -- before training the output is the ridge read-out of the static
    inputs (scikit-learn's prediction), fitted on the training rows it names."""
    from footdt.learn.baselines import RidgeBaseline
    from footdt.learn.trainer import fit_readout

    spec = tiny_spec(static_features=["body_mass", "contact_time", "imu_summary"])
    ds = load_dataset(spec, small_cohort.store, small_cohort.cohort)
    train, test = ds.rows_of(ds.subjects[:6]), ds.rows_of(ds.subjects[6:])
    sc = fit_fold_scalers(ds, train, per_kg=True)
    tr = fold_arrays(ds, train, sc, labels=True)
    ro = fit_readout(tr, ds.subject[train], train, alphas=[0.1, 10.0], seed=0)
    rb = RidgeBaseline.fit(tr.s, tr.y, ds.subject[train], np.arange(len(train)), alphas=[0.1, 10.0],
                           inner_folds=None, seed=0)  # fmt: skip
    te = fold_arrays(ds, test, sc, labels=False)
    np.testing.assert_allclose(ro(te.s), rb.model.predict(te.s), rtol=1e-6, atol=1e-6)
    net = build_network("lstm", n_steps=300, n_channels=6, n_targets=ds.Y.shape[1],
                        n_static=ds.static.shape[1], hp={"units": 4, "dense_units": 4},
                        readout=(ro.weight, ro.bias))  # fmt: skip
    np.testing.assert_allclose(predict(net, te), ro(te.s), rtol=1e-4, atol=1e-4)
    assert not net.get_layer("readout").trainable


def test_the_readout_never_sees_the_early_stopping_runners(
    small_cohort: Synthetic, tf_ready: object
) -> None:
    spec = tiny_spec(static_features=["body_mass", "imu_summary"], readout="ridge",
                     validation={"early_stopping_patience": 2})  # fmt: skip
    ds = load_dataset(spec, small_cohort.store, small_cohort.cohort)
    held = ds.subjects[0]
    train, test = ds.rows_of(ds.subjects[1:]), ds.rows_of([held])
    out = train_and_predict(spec, ds, train, test, resolve_hyperparameters(
        spec.model.hyperparameters), seed=1, score=False)  # fmt: skip
    assert out.readout is not None and out.stop_subjects
    seen = set(ds.subject[out.readout.rows].tolist())
    assert held not in seen and not seen & set(out.stop_subjects)
    assert seen | set(out.stop_subjects) == set(ds.subjects[1:])
