"""The twin on a tiny trained run: reproduces the run's own held-out predictions, windows like
training, and refuses recordings it must not predict (rate, leg, run version, cohort)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from footdt.cohort.manifest import load_manifest
from footdt.errors import FootdtError
from footdt.gait.checks import analyse
from footdt.gait.phases import make_windows
from footdt.twin.predict import (
    Twin,
    TwinError,
    load_twin,
    predict_recording,
    read_for_twin,
    resolve_side,
    stride_windows,
)
from tests.twin.conftest import TwinCohort, write_recording_csv


@pytest.fixture(scope="module")
def twin(twin_cohort: TwinCohort) -> Twin:
    return load_twin(twin_cohort.run)


def _predict(twin: Twin, csv: Path, mass: float, side: str | None = None, **kw: object) -> object:
    rec, _ = read_for_twin(twin, csv, side=side)
    rec, events, _, _ = resolve_side(rec, side, twin, **kw)  # type: ignore[arg-type]
    return predict_recording(twin, rec, events, static={"body_mass": mass})


def test_a_training_recording_reproduces_the_runs_held_out_prediction(
    twin: Twin, twin_cohort: TwinCohort, tmp_path: Path
) -> None:
    """The fold that held a runner out, applied to that runner's raw recording, gives the
    prediction stored in predictions.csv: strides, windows, scalers and networks as in training."""
    pred = pd.read_csv(twin_cohort.run / "predictions.csv", dtype={"subject": str, "trial": str})
    pred = pred[pred.predictor == "model"]
    ids = [f.index for f in twin.folds]
    for s in load_manifest(twin_cohort.train).subjects[:3]:
        t = s.trials[0]
        csv = write_recording_csv(twin_cohort.train / t.imu, tmp_path / f"{s.id}.csv")
        p = _predict(twin, csv, s.body_mass_kg, side="right")
        got = p.recording_fold_mpa[
            ids.index(next(f.index for f in twin.folds if f.held_out == s.id))
        ]  # type: ignore[attr-defined]
        want = pred[(pred.subject == s.id) & (pred.trial == t.id)].set_index("target").pred_mpa
        np.testing.assert_allclose(got, [want[x.name] for x in twin.targets], rtol=2e-5)
        with np.load(twin_cohort.train / t.imu) as z:  # the same strides as the cohort's windows
            np.testing.assert_allclose([s.ic_s for s in p.strides], z["ic_s"], atol=1e-6)  # type: ignore[attr-defined]


def test_stride_windows_are_the_gait_windows(twin: Twin, twin_cohort: TwinCohort) -> None:
    rec, _ = read_for_twin(twin, next(iter(twin_cohort.recordings.values())), side="right")
    events, _ = analyse(rec)
    w, used = stride_windows(rec, events, twin.channels, twin.samples_per_phase)
    ref = make_windows(rec, events)
    np.testing.assert_array_equal(w, ref.data)
    assert [s.index for s in used] == [s["index"] for s in ref.strides]
    foot_only = type(rec)(rec.time, rec.rate_hz, {"foot": rec.acc["foot"]}, source="foot only")
    wf, _ = stride_windows(foot_only, events, ("foot_ax", "foot_ay", "foot_az"), 100)
    np.testing.assert_array_equal(wf, ref.data[:, :, :3])


def test_new_runner_prediction(twin: Twin, twin_cohort: TwinCohort) -> None:
    (sid, _tid), csv = next(iter(twin_cohort.recordings.items()))
    mass = next(s.body_mass_kg for s in twin_cohort.new.subjects if s.id == sid)
    p = _predict(twin, csv, mass)
    n, k = p.pred_mpa.shape  # type: ignore[attr-defined]
    assert k == 4 and n >= 4 and p.fold_pred_mpa.shape == (5, n, 4)  # type: ignore[attr-defined]
    np.testing.assert_allclose(p.pred_mpa, p.fold_pred_mpa.mean(axis=0))  # type: ignore[attr-defined]
    assert np.isfinite(p.lower_mpa).all() and (p.lower_mpa < p.upper_mpa).all()  # type: ignore[attr-defined]
    assert (p.recording_lower_mpa <= p.recording_mpa).all()  # type: ignore[attr-defined]
    assert (p.recording_mpa <= p.recording_upper_mpa).all()  # type: ignore[attr-defined]
    assert p.ood.shape == (n,) and p.ood_distance.min() > 0  # type: ignore[attr-defined]
    assert {d.bone for d in p.damage} == {"calcaneus", "metatarsal_2"}  # type: ignore[attr-defined]
    assert p.meta == {}  # type: ignore[attr-defined]


def test_the_wrong_leg_is_refused_or_mirrored(
    twin: Twin, twin_cohort: TwinCohort, tmp_path: Path
) -> None:
    (sid, _tid), csv = next(iter(twin_cohort.recordings.items()))
    mass = next(s.body_mass_kg for s in twin_cohort.new.subjects if s.id == sid)
    imu = twin_cohort.new.subjects[0].trials[0].imu
    left = write_recording_csv(twin_cohort.root / "new" / imu, tmp_path / "left.csv", flip_y=True)
    with pytest.raises(TwinError, match="a left-leg recording .*inferred.*trained on right-leg"):
        _predict(twin, left, mass)
    with pytest.raises(
        TwinError, match=r"declared --side right, but the tibia .*'tibia_ay'.* laterally"
    ):
        _predict(twin, left, mass, side="right")
    with pytest.raises(TwinError, match="--allow-mirrored"):
        _predict(twin, left, mass, side="left")
    mirrored = _predict(twin, left, mass, side="left", allow_mirrored=True)
    right = _predict(twin, csv, mass, side="right")
    np.testing.assert_allclose(mirrored.pred_mpa, right.pred_mpa, rtol=1e-6)  # type: ignore[attr-defined]
    # features include the y-axis phase means: equal distances mean the data was mirrored back
    np.testing.assert_allclose(mirrored.ood_distance, right.ood_distance, rtol=1e-6)  # type: ignore[attr-defined]


def test_a_different_rate_is_refused_unless_resampling_is_asked(
    twin: Twin, twin_cohort: TwinCohort, tmp_path: Path
) -> None:
    imu = twin_cohort.root / "new" / twin_cohort.new.subjects[0].trials[0].imu
    slow = write_recording_csv(imu, tmp_path / "r50.csv", every=2)
    with pytest.raises(
        TwinError, match=r"sampled at 50 Hz, but the run was trained on 100 Hz.*--resample"
    ):
        read_for_twin(twin, slow)
    rec, was = read_for_twin(twin, slow, resample=True)
    assert rec.rate_hz == 100.0 and was == pytest.approx(50.0)


def test_incompatible_runs_and_missing_cohorts(twin_cohort: TwinCohort, tmp_path: Path) -> None:
    run = shutil.copytree(twin_cohort.run, tmp_path / "run")
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "version": 99}))
    with pytest.raises(TwinError, match=r"run format version 99 .* reads run version 1: retrain"):
        load_twin(run)
    (run / "run.json").write_text(json.dumps({**meta, "cohort": str(tmp_path / "gone")}))
    with pytest.raises(TwinError, match="has no manifest.json here.*--cohort"):
        load_twin(run)
    with pytest.raises(FootdtError, match="not in this cohort"):
        load_twin(run, cohort=twin_cohort.root / "new")
    (run / "models" / "fold_00_R001_seed0.keras").unlink()
    with pytest.raises(TwinError, match="fold_00_R001_seed0.keras is missing"):
        load_twin(run, cohort=twin_cohort.train)
    with pytest.raises(FootdtError, match="no run.json"):
        load_twin(tmp_path)


def test_static_inputs_are_required(twin: Twin, twin_cohort: TwinCohort) -> None:
    csv = next(iter(twin_cohort.recordings.values()))
    rec, _ = read_for_twin(twin, csv, side="right")
    rec, events, _, _ = resolve_side(rec, "right", twin)
    with pytest.raises(TwinError, match=r"pass --static body_mass=<kg>"):
        predict_recording(twin, rec, events)
    with pytest.raises(TwinError, match="height are not inputs of this run"):
        predict_recording(twin, rec, events, static={"body_mass": 70.0, "height": 1.8})


def test_a_recording_whose_strides_are_all_flagged_is_refused(
    twin: Twin, twin_cohort: TwinCohort
) -> None:
    from footdt.gait.recording import GaitDataError

    rec, _ = read_for_twin(twin, next(iter(twin_cohort.recordings.values())), side="right")
    events, _ = analyse(rec)
    for s in events.strides:
        events = events.flag(s.index, "clipped")
    with pytest.raises(
        GaitDataError,
        match=rf"no usable strides: all {len(events.strides)} detected strides are flagged \(clipped\)",
    ):
        stride_windows(rec, events, twin.channels, twin.samples_per_phase)


def test_a_network_that_does_not_load_is_named(twin_cohort: TwinCohort, tmp_path: Path) -> None:
    run = shutil.copytree(twin_cohort.run, tmp_path / "run")
    (run / "models" / "fold_01_R002_seed0.keras").write_bytes(b"not a keras file")
    with pytest.raises(
        TwinError,
        match=r"fold_01_R002_seed0.keras: cannot load the network .*retrain or install that version",
    ):
        load_twin(run)


def test_timing_inputs_are_measured_from_the_recording(twin: Twin, twin_cohort: TwinCohort) -> None:
    """The run's timing inputs come from the strides predict windows (footdt.gait.timing), as
    they came from the training windows' IC/TO; the user may not pass them."""
    from footdt.gait.timing import stride_timing
    from footdt.twin.predict import static_rows

    assert twin.static_names[:3] == ("body_mass", "contact_time", "flight_time")
    assert all(n.startswith("imu.") for n in twin.static_names[3:]) and len(twin.static_names) > 6
    assert twin.user_static == ("body_mass",) and twin.per_kg
    rec, _ = read_for_twin(twin, next(iter(twin_cohort.recordings.values())), side="right")
    rec, events, _, _ = resolve_side(rec, "right", twin)
    with pytest.raises(TwinError, match="contact_time are measured from the recording"):
        predict_recording(twin, rec, events, static={"body_mass": 70.0, "contact_time": 0.25})
    x, used = stride_windows(rec, events, twin.channels, twin.samples_per_phase)
    rows = static_rows(twin, {"body_mass": 70.0}, used, x)
    t = stride_timing(np.array([s.ic_s for s in used]), np.array([s.to_s for s in used]))
    np.testing.assert_allclose(rows[:, 0], 70.0)
    np.testing.assert_allclose(rows[:, 1], t["contact_time"])
    np.testing.assert_allclose(rows[:, 2], t["flight_time"])
    assert 0.15 < rows[:, 1].mean() < 0.35 and 0.0 < rows[:, 2].mean() < 0.25
    from footdt.learn.features import imu_features

    stance = np.array([s.stance_s for s in used]) if twin.ood_uses_stance else None
    feats, names = imu_features(x, twin.channels, stance, twin.samples_per_phase)
    assert twin.static_names[3:] == tuple(f"imu.{n}" for n in names)
    np.testing.assert_allclose(rows[:, 3:], feats)


@pytest.mark.parametrize(
    ("value", "needles"),
    [
        ("76138", ("outside the physical range 20-250 kg", "is it in g? that is 76.14 kg")),
        ("nan", ("must be a finite number (kg)",)),
        ("inf", ("must be a finite number (kg)",)),
        ("-76", ("outside the physical range 20-250 kg",)),
    ],
)
def test_static_inputs_outside_their_physical_range_are_refused(
    twin: Twin, value: str, needles: tuple[str, ...]
) -> None:
    from footdt.twin.predict import static_inputs

    with pytest.raises(FootdtError) as err:
        static_inputs(twin, {"body_mass": float(value)})
    msg = str(err.value)
    assert "\n" not in msg and len(msg) <= 300 and msg.startswith(f"--static body_mass={value}")
    for n in needles:
        assert n in msg, msg


def test_static_inputs_unlike_the_training_runners_flag_every_stride(
    twin: Twin, twin_cohort: TwinCohort
) -> None:
    """In range but far from the training runners' body masses: flagged OOD (not refused), as a
    stride unlike the training strides is; a typical mass is not flagged."""
    s = twin_cohort.new.subjects[0]
    csv = twin_cohort.recordings[(s.id, s.trials[0].id)]
    assert twin.static_ref is not None
    lo, hi = twin.static_ref.low[0], twin.static_ref.high[0]
    typical = _predict(twin, csv, float((lo + hi) / 2), side="right")
    heavy = _predict(twin, csv, 240.0, side="right")
    assert typical.static_ood["flagged"] is False and typical.static_ood["message"] is None  # type: ignore[attr-defined]
    assert heavy.static_ood["flagged"] is True and heavy.ood.all()  # type: ignore[attr-defined]
    assert "body_mass 240 kg (training runners" in heavy.static_ood["message"]  # type: ignore[attr-defined]
    inp = heavy.static_ood["inputs"]["body_mass"]  # type: ignore[attr-defined]
    assert inp["train_min"] == pytest.approx(lo) and inp["train_max"] == pytest.approx(hi)


def test_predictions_and_bounds_are_never_negative(twin: Twin, twin_cohort: TwinCohort) -> None:
    """Von Mises stress is >= 0: whatever the networks say for an extreme (but physical) input,
    the prediction and both interval bounds are >= 0, and a clipped target is named."""
    s = twin_cohort.new.subjects[0]
    csv = twin_cohort.recordings[(s.id, s.trials[0].id)]
    for mass in (21.0, 249.0):
        p = _predict(twin, csv, mass, side="right")
        for a in (p.pred_mpa, p.lower_mpa, p.upper_mpa, p.recording_mpa,  # type: ignore[attr-defined]
                  p.recording_lower_mpa, p.recording_upper_mpa):  # type: ignore[attr-defined]  # fmt: skip
            assert (a >= 0).all()
        raw = p.fold_pred_mpa.mean(axis=0)  # type: ignore[attr-defined]
        neg = {t.name for k, t in enumerate(twin.targets) if (raw[:, k] < 0).any()}
        assert neg <= set(p.clipped_targets)  # type: ignore[attr-defined]


def test_networks_share_one_model_per_architecture_and_predict_as_loaded_alone(twin: Twin) -> None:
    """Every network of a run with fixed hyperparameters runs through one Keras model (its
    weights copied in), and predicts what that network loaded on its own predicts."""
    import keras

    from footdt.learn.trainer import Arrays, predict

    nets = [n for f in twin.folds for n in f.models]
    assert len(nets) > 2 and len({id(n.model) for n in nets}) == 1
    first = nets[0].model
    rng = np.random.default_rng(0)
    data = Arrays(rng.normal(size=(3, *first.inputs[0].shape[1:])).astype(np.float32),
                  rng.normal(size=(3, first.inputs[1].shape[1])).astype(np.float32))  # fmt: skip
    for n in (nets[1], nets[-1], nets[0]):  # out of order: each prediction sets its own weights
        alone = keras.models.load_model(n.path, compile=False)
        np.testing.assert_allclose(n.predict(data), predict(alone, data), rtol=1e-6, atol=1e-6)
    assert not np.allclose(nets[0].predict(data), nets[-1].predict(data))
