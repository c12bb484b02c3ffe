"""Stance phases, time normalisation and the (n, 300, 6) windows with their channel order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from footdt.domain import CHANNELS, PHASES
from footdt.gait.events import Stride, detect_events
from footdt.gait.phases import (
    DEFAULT_BOUNDS,
    PhaseBounds,
    bounds_from_pressure,
    load_windows,
    make_windows,
    normalise,
    stride_window,
)
from footdt.gait.pressure import RegionalPressure
from footdt.gait.recording import GaitDataError, Recording
from tests.gait.synth import running_recording

STRIDE = Stride(index=0, ic_s=1.0, to_s=1.3, next_ic_s=1.75, ic_peak_g=5.0)


def ramp_recording() -> Recording:
    """Each channel c (0..5) holds 100 * c + t (t in s), so channel order and timing show."""
    t = np.arange(0, 3, 0.01)
    ch = [100.0 * c + t for c in range(6)]
    return Recording(t, 100.0, {"tibia": np.stack(ch[3:], 1), "foot": np.stack(ch[:3], 1)})


def test_phase_intervals_tile_the_stance() -> None:
    iv = DEFAULT_BOUNDS.intervals(STRIDE)
    assert tuple(iv) == PHASES
    assert iv["initial_contact"] == pytest.approx((1.0, 1.06))
    assert iv["mid_stance"] == pytest.approx((1.06, 1.165))
    assert iv["push_off"] == pytest.approx((1.165, 1.3))
    with pytest.raises(GaitDataError, match="0 < ic_end < push_start < 1"):
        PhaseBounds(0.6, 0.5)


def test_normalise_is_exact_on_a_linear_signal_and_orders_channels() -> None:
    rec = ramp_recording()
    w = normalise(rec, 1.0, 1.2, n=100)
    tq = 1.0 + (np.arange(100) + 0.5) * 0.002
    for c in range(6):  # foot ax, ay, az, tibia ax, ay, az even though tibia was given first
        np.testing.assert_allclose(w[:, c], 100.0 * c + tq, atol=1e-9)


def test_stride_window_is_300_by_6_in_phase_order() -> None:
    rec = ramp_recording()
    w = stride_window(rec, STRIDE)
    assert w.shape == (300, 6)
    iv = DEFAULT_BOUNDS.intervals(STRIDE)
    for k, phase in enumerate(PHASES):
        t0, t1 = iv[phase]
        seg = w[100 * k : 100 * (k + 1), 0]
        assert seg[0] == pytest.approx(t0 + 0.005 * (t1 - t0)) and seg[-1] == pytest.approx(
            t1 - 0.005 * (t1 - t0)
        )


def test_windows_of_a_recording_roundtrip(tmp_path: Path) -> None:
    rec, ic, _ = running_recording(n_strides=10)
    ev = detect_events(rec)
    win = make_windows(rec, ev)
    assert win.data.shape == (len(ev.strides), 300, 6)
    assert (
        win.channels
        == CHANNELS
        == ("foot_ax", "foot_ay", "foot_az", "tibia_ax", "tibia_ay", "tibia_az")
    )
    assert win.units == "m/s^2" and win.meta["n_dropped_flagged"] == 0
    # foot az carries the impact from IC: the first ~10 ms of the window are near its peak
    assert win.data[:, :20, 2].max(axis=1).min() > 5 * 9.8
    back = load_windows(win.save(tmp_path / "trial.npz"))
    np.testing.assert_array_equal(back.data, win.data)
    assert back.channels == win.channels and back.phases == PHASES and back.samples_per_phase == 100
    assert [s["ic_s"] for s in back.strides] == pytest.approx(ic[: len(back.strides)], abs=0.01)
    with np.load(tmp_path / "trial.npz") as z:
        assert str(z["units"]) == "m/s^2" and z["windows"].shape == win.data.shape


def test_windows_need_both_sensors_and_unflagged_strides() -> None:
    rec, _, _ = running_recording(n_strides=6)
    foot_only = Recording(rec.time, rec.rate_hz, {"foot": rec.acc["foot"]}, source="f.csv")
    ev = detect_events(foot_only)
    with pytest.raises(
        GaitDataError, match="windows need both sensors foot and tibia .* missing tibia"
    ):
        make_windows(foot_only, ev)
    ev_all = detect_events(rec)
    for s in ev_all.strides:
        ev_all = ev_all.flag(s.index, "clipped")
    with pytest.raises(GaitDataError, match="all 6 strides are flagged \\(clipped\\)"):
        make_windows(rec, ev_all)
    assert make_windows(rec, ev_all, keep_flagged=True).data.shape[0] == 6


def test_bounds_from_pressure_follow_foot_flat_and_heel_off() -> None:
    t = np.arange(0.9, 1.4, 0.002)
    u = (t - 1.0) / 0.3
    rear = np.where((u >= 0) & (u <= 0.6), np.sin(np.pi * np.clip(u / 0.6, 0, 1)), 0.0) * 0.3
    fore = (
        np.where((u >= 0.15) & (u <= 1.0), np.sin(np.pi * np.clip((u - 0.15) / 0.85, 0, 1)), 0.0)
        * 0.4
    )
    rp = RegionalPressure(t, 500.0, {"rearfoot": rear, "forefoot": fore})
    b = bounds_from_pressure(rp, STRIDE)
    assert b.ic_end == pytest.approx(0.15 + 0.85 * np.arcsin(0.05) / np.pi, abs=0.01)
    assert b.push_start == pytest.approx(0.6 - 0.6 * np.arcsin(0.05) / np.pi, abs=0.01)
    assert b.source.startswith("plantar pressure")
