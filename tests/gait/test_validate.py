"""Force-plate contacts, feet on a shared plate, and the leave-one-out protocol, on synthetic
signals with known contacts."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.gait.events import detect_events
from footdt.gait.recording import GaitDataError
from footdt.gait.validate import (
    Labelled,
    assign_feet,
    fit_offsets,
    force_contacts,
    leave_one_out,
    match_events,
)
from tests.gait.synth import ARREST_S, running_recording, treadmill_force

RATE = 1000.0


def _expected(spans: np.ndarray, level_n: float, bw_n: float = 700.0) -> np.ndarray:
    """Where each half-sine contact crosses ``level_n`` above the baseline (s)."""
    d = spans[:, 1] - spans[:, 0]
    amp = bw_n * 0.36 * np.pi / (2 * 0.25)
    u = np.arcsin(level_n / amp) / np.pi
    return np.stack([spans[:, 0] + d * u, spans[:, 1] - d * u], axis=1)


@pytest.mark.parametrize(
    ("label", "kwargs"),
    [
        ("clean", {}),
        ("offset plate (+45 N)", {"baseline_n": 45.0}),
        ("drifting plate (+60 N over the trial)", {"drift_n": 60.0, "baseline_n": -20.0}),
        ("plate z down (negative load)", {"sign": -1.0}),
        ("noisy plate (8 N)", {"noise_n": 8.0}),
        ("all at once", {"baseline_n": 30.0, "drift_n": -40.0, "noise_n": 8.0, "sign": -1.0}),
    ],
)
def test_contacts_relative_to_body_weight_and_baseline(label: str, kwargs: dict) -> None:
    f, spans, _ = treadmill_force(**kwargs)
    fc = force_contacts(f, RATE)
    assert fc.n == len(spans), label  # every complete contact, nothing else
    assert fc.n_incomplete == 2  # the contacts cut by the start and end of the recording
    assert fc.body_weight_n == pytest.approx(700.0, rel=0.02)
    assert fc.sign == (-1 if kwargs.get("sign", 1.0) < 0 else 1)
    assert fc.on_threshold_n == pytest.approx(max(0.05 * fc.body_weight_n, 3 * fc.noise_n))
    # noise moves the crossing by ~noise / slope (~8 N / 30 N/ms): allow 1 ms, else 1 sample
    tol = 1e-3 if kwargs.get("noise_n") else 1.5 / RATE
    np.testing.assert_allclose(fc.contacts_s, _expected(spans, fc.on_threshold_n), atol=tol)


def test_an_absolute_threshold_is_not_relative_to_a_baseline() -> None:
    # the failure mode of a fixed 20 N threshold: a plate reading +25 N unloaded never "lifts"
    f, spans, _ = treadmill_force(baseline_n=25.0)
    assert (f > 20.0).all()
    assert force_contacts(f, RATE).n == len(spans)


def test_two_feet_without_flight_are_not_taken_for_one_contact() -> None:
    f, spans, right = treadmill_force(merged=(10,))
    fc = force_contacts(f, RATE)
    assert len(fc.merged_s) == 1  # steps 10 and 11 loaded the plate together
    on_merged = (spans[:, 0] >= fc.merged_s[0, 0] - 0.01) & (spans[:, 0] <= fc.merged_s[0, 1])
    assert on_merged.sum() == 2
    assert fc.n == len(spans) - 2
    # alternation restarts after the gap the merged span leaves, and still gets every foot right
    kept = spans[~on_merged]
    evidence = np.where(right[~on_merged], 1.0, -1.0)
    feet = assign_feet(fc.contacts_s, evidence)
    assert len(feet.runs) == 2 and (feet.right == right[~on_merged]).all()
    assert match_events(fc.contacts_s[:, 0], kept[:, 0], 0.05).summary()["n_missed"] == 0


def test_alternation_outvotes_wrong_evidence() -> None:
    rng = np.random.default_rng(1)
    n = 40
    contacts = np.stack([np.arange(n) * 0.36, np.arange(n) * 0.36 + 0.25], axis=1)
    truth = np.arange(n) % 2 == 1  # the left foot first
    evidence = np.where(truth, 1.0, -1.0) * rng.uniform(0.2, 1.0, n)
    wrong = rng.choice(n, 8, replace=False)  # a fifth of the votes point the wrong way
    evidence[wrong] *= -1
    evidence[0] = 0.0  # and one has no opinion
    feet = assign_feet(contacts, evidence)
    assert (feet.right == truth).all()
    assert sorted(feet.disagree) == sorted(wrong[wrong != 0])
    # a missing contact breaks the alternation: the next run is voted on its own
    gap = np.delete(contacts, 20, axis=0)
    feet = assign_feet(gap, np.delete(np.where(truth, 1.0, -1.0), 20))
    assert len(feet.runs) == 2 and (feet.right == np.delete(truth, 20)).all()
    with pytest.raises(GaitDataError, match="does not tell which foot"):
        assign_feet(contacts[:4], np.zeros(4))


def test_a_plate_that_never_unloads_is_refused() -> None:
    f, _, _ = treadmill_force(contact_s=0.5)  # one foot always down: no flight phase
    with pytest.raises(GaitDataError, match="no flight phase"):
        force_contacts(f, RATE)
    with pytest.raises(GaitDataError, match="no flight phase"):
        force_contacts(np.full(5000, 650.0) + np.sin(np.arange(5000)), RATE)


def test_offsets_are_learned_from_training_recordings_only() -> None:
    items = []
    for k in range(3):
        rec, ic, to = running_recording(n_strides=12, seed=k)
        items.append(Labelled(f"run{k}", f"g{k}", rec, np.stack([ic, to], axis=1)))
    fitted = fit_offsets(items[:2])
    assert fitted.ic_offset_s == pytest.approx(ARREST_S, abs=0.005)
    assert abs(fitted.to_offset_s) < 0.01  # the fixture's dip lies at TO
    res = leave_one_out(items)
    assert set(res["recordings"]) == {"run0", "run1", "run2"}
    for row in res["recordings"].values():
        assert row["ic"]["n_missed"] == 0 and row["ic"]["n_false"] == 0
        assert abs(row["learned_ic_offset_ms"] - 1e3 * ARREST_S) < 5.0
    assert res["pooled"]["ic"]["median_abs_error_ms"] < 5.0
    # the held-out recording is never used: changing it does not change its fold's offsets
    shifted = Labelled("run2", "g2", items[2].recording, items[2].contacts_s + 0.05)
    res2 = leave_one_out([*items[:2], shifted])
    assert res2["recordings"]["run2"]["learned_ic_offset_ms"] == pytest.approx(
        res["recordings"]["run2"]["learned_ic_offset_ms"]
    )
    with pytest.raises(GaitDataError, match="at least two groups"):
        leave_one_out([items[0]])


def test_detector_offsets_per_sensor_set_and_override() -> None:
    from dataclasses import replace

    from footdt.gait.events import DEFAULT_SETTINGS, IC_OFFSETS_S

    rec, _ic, _ = running_recording(n_strides=8, seed=4)
    base = detect_events(rec)
    later = detect_events(rec, settings=replace(DEFAULT_SETTINGS, ic_offset_s=0.0))
    shift = np.array([b.ic_s - a.ic_s for a, b in zip(base.strides, later.strides, strict=True)])
    np.testing.assert_allclose(shift, IC_OFFSETS_S["foot+tibia"])
    assert DEFAULT_SETTINGS.ic_offset_for(("foot",)) == IC_OFFSETS_S["foot"]
    assert DEFAULT_SETTINGS.ic_offset_for(("tibia",)) == IC_OFFSETS_S["tibia"]
