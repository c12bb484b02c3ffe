"""Joining IMU windows with labels: shapes, the peak statistic, and clear errors naming subject/trial."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from footdt.cohort.manifest import WINDOW_CHANNELS
from footdt.learn.dataset import DatasetError, assemble, load_dataset, resolve_targets
from footdt.learn.folds import fit_fold_scalers, grouped_kfold, loso_folds
from tests.learn.conftest import QUICK_TARGETS, tiny_spec
from tests.learn.synthetic import Synthetic, write_store


def _value(syn: Synthetic, subject: str, trial: str, phase: str, bone: str, stat: str) -> float:
    (row,) = [
        r
        for r in syn.rows
        if (r.subject, r.trial, r.phase, r.bone, r.stat) == (subject, trial, phase, bone, stat)
    ]
    return row.value_mpa


def test_trial_mean_dataset_joins_labels_and_windows(small_cohort: Synthetic) -> None:
    spec = tiny_spec(static_features=["body_mass", "speed"])
    ds = load_dataset(spec, small_cohort.store, small_cohort.cohort)
    assert ds.X.shape == (24, 300, 6) and ds.Y.shape == (24, 4) and ds.static.shape == (24, 2)
    assert ds.channels == WINDOW_CHANNELS
    assert ds.targets == tuple(QUICK_TARGETS)
    # 'peak' reads the spec's peak_stat (p99 by default), 'mean' the mean
    k = ds.targets.index("push_off.metatarsal_2.peak")
    assert ds.Y[0, k] == _value(small_cohort, "S01", "T1", "push_off", "metatarsal_2", "p99")
    assert ds.Y[0, 0] == _value(small_cohort, "S01", "T1", "initial_contact", "calcaneus", "mean")
    w = np.load(small_cohort.cohort / "imu" / "S01_T1.npz")["windows"]
    np.testing.assert_allclose(ds.X[0], w.mean(axis=0), rtol=1e-6)
    s01 = small_cohort.manifest.subject("S01")
    assert ds.static[0, 0] == s01.body_mass_kg and ds.static[0, 1] == s01.trials[0].speed_m_s
    assert ds.body_mass_kg[0] == s01.body_mass_kg


def test_peak_stat_and_stride_samples_and_channels(small_cohort: Synthetic) -> None:
    spec = tiny_spec().model_copy(update={"peak_stat": "max"})
    spec = spec.model_copy(
        update={
            "inputs": spec.inputs.model_copy(
                update={"samples": "stride", "sensors": ["tibia"], "channels": ["az"]}
            )
        }
    )
    ds = load_dataset(spec, small_cohort.store, small_cohort.cohort)
    assert ds.X.shape == (72, 300, 1) and ds.channels == ("tibia_az",)
    assert list(ds.stride[:3]) == [0, 1, 2] and list(ds.trial[:4]) == ["T1", "T1", "T1", "T2"]
    assert (
        ds.Y[0, 3]
        == ds.Y[2, 3]
        == _value(small_cohort, "S01", "T1", "push_off", "metatarsal_2", "max")
    )
    assert ds.feature_names == ("tibia_az_peak", "tibia_loading_rate")


def test_resolve_targets_maps_peak() -> None:
    (t,) = resolve_targets(["mid_stance.talus.peak"], "p95")
    assert (t.phase, t.bone, t.stat) == ("mid_stance", "talus", "p95")


def test_missing_target_is_named(fresh_cohort: Synthetic) -> None:
    rows = [
        r
        for r in fresh_cohort.rows
        if not (r.bone == "metatarsal_2" and r.phase == "push_off" and r.stat == "p99")
    ]
    with pytest.raises(
        DatasetError, match=r"push_off\.metatarsal_2\.peak .*stored as push_off/metatarsal_2/p99"
    ):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, rows)


def test_missing_trial_labels_name_subject_and_trial(fresh_cohort: Synthetic) -> None:
    rows = [r for r in fresh_cohort.rows if not (r.subject == "S03" and r.trial == "T2")]
    with pytest.raises(DatasetError, match="subject S03 trial T2: no labels"):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, rows)
    rows = [
        r
        for r in fresh_cohort.rows
        if not (r.subject == "S02" and r.trial == "T1" and r.bone == "calcaneus")
    ]
    with pytest.raises(
        DatasetError,
        match=r"subject S02 trial T1: target\(s\) initial_contact.calcaneus.mean missing",
    ):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, rows)


def test_subject_mismatch_both_ways(fresh_cohort: Synthetic) -> None:
    rows = [r for r in fresh_cohort.rows if r.subject != "S04"]
    with pytest.raises(DatasetError, match="subject.*S04 of the cohort have no labels"):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, rows)
    extra = [dataclasses.replace(r, subject="X99") for r in fresh_cohort.rows if r.subject == "S01"]
    with pytest.raises(
        DatasetError, match="X99 have labels in the store but are not in the cohort"
    ):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows + extra)


def test_nan_label_is_named(fresh_cohort: Synthetic) -> None:
    rows = [dataclasses.replace(r, value_mpa=float("nan")) if (r.subject, r.trial, r.bone, r.phase, r.stat)
            == ("S02", "T2", "metatarsal_2", "mid_stance", "mean") else r for r in fresh_cohort.rows]  # fmt: skip
    with pytest.raises(
        DatasetError, match=r"subject S02 trial T2: label mid_stance\.metatarsal_2\.mean .* is nan"
    ):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, rows)


def test_wrong_window_shape_is_named(fresh_cohort: Synthetic) -> None:
    np.savez(fresh_cohort.cohort / "imu" / "S03_T1.npz", windows=np.zeros((2, 200, 6), np.float32))
    with pytest.raises(
        DatasetError,
        match=r"subject S03 trial T1: IMU windows .* shape \(2, 200, 6\); expected \(n_strides, 300, 6\)",
    ):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows)


def test_nan_window_and_missing_static_are_named(fresh_cohort: Synthetic) -> None:
    w = np.zeros((2, 300, 6), np.float32)
    w[1, 5, 2] = np.nan
    np.savez(fresh_cohort.cohort / "imu" / "S02_T2.npz", windows=w)
    with pytest.raises(DatasetError, match=r"subject S02 trial T2: .*NaN/inf in stride\(s\) \[1\]"):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows)
    data = json.loads((fresh_cohort.cohort / "manifest.json").read_text())
    m = fresh_cohort.manifest.model_validate(
        {
            **data,
            "subjects": [
                {**s, "trials": [{**t, "speed_m_s": None} for t in s["trials"]]}
                for s in data["subjects"]
            ],
        }
    )
    with pytest.raises(DatasetError, match="subject S01 trial T1: static feature 'speed'"):
        assemble(tiny_spec(static_features=["speed"]), m, fresh_cohort.cohort, fresh_cohort.rows)


def test_several_backends_need_a_choice(fresh_cohort: Synthetic) -> None:
    other = [
        dataclasses.replace(r, backend="calculix", value_mpa=r.value_mpa * 1.01)
        for r in fresh_cohort.rows
    ]
    with pytest.raises(DatasetError, match="several backends.*label_backend"):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows + other)
    spec = tiny_spec().model_copy(update={"label_backend": "calculix"})
    ds = assemble(spec, fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows + other)
    assert ds.label_backend == "calculix"
    assert ds.Y[0, 0] == pytest.approx(
        _value(fresh_cohort, "S01", "T1", "initial_contact", "calcaneus", "mean") * 1.01
    )


def test_load_dataset_reads_a_store(fresh_cohort: Synthetic) -> None:
    write_store(fresh_cohort.store, fresh_cohort.rows)
    ds = load_dataset(tiny_spec(), fresh_cohort.store, fresh_cohort.cohort)
    assert ds.subjects == ["S01", "S02", "S03", "S04"] and ds.n == 8
    assert len(ds.content_hash()) == 16


def test_scalers_use_training_rows_only(small_cohort: Synthetic) -> None:
    ds = load_dataset(
        tiny_spec(static_features=["body_mass"]), small_cohort.store, small_cohort.cohort
    )
    fold = loso_folds(ds)[2]
    assert set(ds.subject[fold.test_rows]) == {"S03"} and "S03" not in set(
        ds.subject[fold.train_rows]
    )
    sc = fit_fold_scalers(ds, fold.train_rows)
    tr = ds.X[fold.train_rows].astype(float)
    np.testing.assert_allclose(sc.x.mean, tr.mean(axis=(0, 1)))
    np.testing.assert_allclose(sc.x.std, tr.std(axis=(0, 1)))
    np.testing.assert_allclose(sc.y.mean, ds.Y[fold.train_rows].mean(axis=0))
    np.testing.assert_allclose(sc.static.mean, ds.static[fold.train_rows].mean(axis=0))
    z = sc.y.transform(ds.Y[fold.train_rows])
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(sc.y.inverse(z), ds.Y[fold.train_rows], rtol=1e-6)


def test_grouped_kfold_validates_each_subject_once() -> None:
    subjects = [f"S{i}" for i in range(7)]
    splits = grouped_kfold(subjects, 3, seed=1)
    assert len(splits) == 3
    vals = [s for _, va in splits for s in va]
    assert sorted(vals) == sorted(subjects)
    for tr, va in splits:
        assert not set(tr) & set(va) and set(tr) | set(va) == set(subjects)
    assert splits == grouped_kfold(list(reversed(subjects)), 3, seed=1)
    assert len(grouped_kfold(["a", "b"], 5, seed=0)) == 2


def test_recorded_channels_samples_and_stance_times_are_checked(fresh_cohort: Synthetic) -> None:
    path = fresh_cohort.cohort / "imu" / "S02_T1.npz"
    w = np.load(path)["windows"]
    z = dict(np.load(path))
    ev = {"ic_s": z["ic_s"], "to_s": z["to_s"]}
    np.savez(path, windows=w, channels=np.array(WINDOW_CHANNELS[::-1]), **ev)
    with pytest.raises(DatasetError, match="subject S02 trial T1: .* has channels"):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows)
    np.savez(path, windows=w, samples_per_phase=np.array(50), **ev)
    with pytest.raises(DatasetError, match="subject S02 trial T1: .* 50 samples per phase"):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows)
    for imu in sorted((fresh_cohort.cohort / "imu").glob("*.npz")):  # gait.phases spelling
        z = dict(np.load(imu))
        np.savez(imu, windows=z["windows"], stance_s=np.full(len(z["windows"]), 0.25),
                 channels=np.array(WINDOW_CHANNELS), ic_s=z["ic_s"], to_s=z["to_s"])  # fmt: skip
    ds = assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows)
    assert ds.feature_names[-1] == "stance_time_s" and (ds.features[:, -1] == 0.25).all()
    z = dict(np.load(path))
    np.savez(path, windows=z["windows"], ic_s=z["ic_s"])
    with pytest.raises(DatasetError, match="S02 trial T1: imu/S02_T1.npz has no ic_s/to_s"):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows)
    np.savez(path, windows=z["windows"], ic_s=z["ic_s"], to_s=z["ic_s"] - 0.1)
    with pytest.raises(DatasetError, match="S02 trial T1: .* with to_s > ic_s"):
        assemble(tiny_spec(), fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows)


def test_timing_inputs_come_from_the_strides_gait_events(fresh_cohort: Synthetic) -> None:
    spec = tiny_spec(static_features=["body_mass", "contact_time", "step_time", "flight_time"])
    ds = assemble(spec, fresh_cohort.manifest, fresh_cohort.cohort, fresh_cohort.rows)
    z = np.load(fresh_cohort.cohort / "imu" / "S01_T1.npz")
    contact = z["to_s"] - z["ic_s"]
    step = 0.5 * (z["ic_s"][1] - z["ic_s"][0])  # two strides: the one gap serves both
    row = ds.rows_of(["S01"])[0]
    np.testing.assert_allclose(ds.static[row, 1:], [contact.mean(), step, step - contact.mean()])
    assert ds.static_names == ("body_mass", "contact_time", "step_time", "flight_time")
