"""The detector on a synthetic running signal with known contacts, and on signals with no strides."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.gait.events import detect_events
from footdt.gait.recording import G, NoStridesError, Recording
from tests.gait.synth import running_recording


@pytest.mark.parametrize("rate", [100.0, 200.0])
def test_recovers_known_ic_and_to_within_one_sample(rate: float) -> None:
    rec, ic, to = running_recording(n_strides=15, rate_hz=rate, seed=3)
    ev = detect_events(rec)
    assert len(ev.strides) == len(ic)  # every stance has its TO inside the recording
    got_ic = np.array([s.ic_s for s in ev.strides])
    got_to = np.array([s.to_s for s in ev.strides])
    assert np.max(np.abs(got_ic - ic)) <= 1.0 / rate
    assert np.max(np.abs(got_to - to)) <= 1.0 / rate
    assert ev.stride_period_s == pytest.approx(0.72, abs=2.0 / rate)
    assert ev.strides[-1].next_ic_s is None and ev.strides[0].next_ic_s == pytest.approx(
        ic[1], abs=0.01
    )
    assert not any(s.flags for s in ev.strides)


def test_one_sensor_is_enough() -> None:
    rec, ic, _ = running_recording(n_strides=8, seed=1)
    for sensor in ("foot", "tibia"):
        ev = detect_events(rec, sensors=(sensor,))
        assert ev.sensors == (sensor,)
        assert np.max(np.abs(np.array([s.ic_s for s in ev.strides]) - ic)) <= 0.01


def test_standing_still_has_no_strides() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(0, 20, 0.01)
    still = np.tile([0.0, 0.0, G], (len(t), 1)) + rng.normal(0, 0.02 * G, (len(t), 3))
    with pytest.raises(NoStridesError, match="no strides found: no repeating stride pattern"):
        detect_events(Recording(t, 100.0, {"foot": still}, source="still.csv"))


def test_periodic_but_gentle_motion_has_no_impacts() -> None:
    t = np.arange(0, 20, 0.01)  # swaying at 1 Hz, 0.1 g: periodic, but no impact peaks
    sway = np.stack([0.1 * G * np.sin(2 * np.pi * t), 0 * t, G + 0 * t], 1)
    with pytest.raises(
        NoStridesError, match=r"still.csv \(foot\): no strides found: fewer than 2 impact"
    ):
        detect_events(Recording(t, 100.0, {"foot": sway}, source="still.csv"))


def test_toe_off_is_the_fall_into_the_dip_not_the_dip() -> None:
    from dataclasses import replace

    from footdt.gait.events import DEFAULT_SETTINGS

    rec, _, to = running_recording(n_strides=10, seed=5)
    fall = detect_events(rec, settings=replace(DEFAULT_SETTINGS, to_offset_s=0.0))
    dip = detect_events(rec, settings=replace(DEFAULT_SETTINGS, to_offset_s=0.0, to_rule="dip"))
    lag = np.array([d.to_s - f.to_s for f, d in zip(fall.strides, dip.strides, strict=True)])
    assert (lag > 0.01).all()  # the fixture's dip comes ~25 ms after its release, as on RBDS001
    got = np.array([s.to_s for s in fall.strides])
    assert np.max(np.abs(got - to)) <= 0.01
    with pytest.raises(ValueError, match="to_rule"):
        detect_events(rec, settings=replace(DEFAULT_SETTINGS, to_rule="peak"))
