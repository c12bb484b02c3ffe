"""RBDS001 on real running data at 2.5 m/s (text files) and 3.5 m/s (C3D): force-plate contacts,
the leave-one-recording-out protocol, and the checks (skips when ../shared/data is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.gait.checks import analyse
from footdt.gait.rbds import (
    available_speeds,
    rbds_check,
    rbds_force_contacts,
    rbds_labelled,
    rbds_recording,
    rbds_trial,
)
from footdt.gait.recording import GaitDataError, Recording
from footdt.gait.validate import leave_one_out
from tests.conftest import SHARED_DATA

RBDS = SHARED_DATA / "rbds_running_001"
pytestmark = pytest.mark.skipif(not RBDS.is_dir(), reason=f"RBDS data not found at {RBDS}")
needs_c3d = pytest.mark.skipif(
    not (RBDS / "RBDS001runT35.c3d").is_file(), reason="RBDS001runT35.c3d not found"
)

# Complete contacts counted by eye on the vertical force of each whole trial (a plot of the
# 30 s in 5 s rows): every hump that starts and ends at the unloaded level inside the recording.
# 2.5 m/s: 79 humps, the first and last cut by the recording; 3.5 m/s: 86, the first cut.
COUNTED = {"25": (77, 38, 39), "35": (85, 43, 42)}


@pytest.fixture(scope="module")
def result() -> dict:
    return rbds_check(RBDS)


@pytest.mark.parametrize("speed", ["25", pytest.param("35", marks=needs_c3d)])
def test_force_contacts_equal_the_complete_contacts_counted(speed: str) -> None:
    fc, feet = rbds_force_contacts(RBDS, speed=speed)
    n, n_right, n_left = COUNTED[speed]
    assert fc.n == n and int(feet.right.sum()) == n_right and int((~feet.right).sum()) == n_left
    assert len(feet.runs) == 1 and len(feet.disagree) == 0  # strict alternation, no dissent
    assert fc.sign == 1 and len(fc.merged_s) == 0
    # body weight from the force itself: the same runner at both speeds (~60 kg)
    assert 580.0 < fc.body_weight_n < 610.0
    # independent count: humps above half body weight (crossings < 50 ms apart are one) that
    # start and end inside the recording
    f = rbds_trial(RBDS, speed=speed).force_n - fc.baseline_n
    edges = np.flatnonzero(np.diff(np.r_[0, (f > 0.5 * fc.body_weight_n).astype(int), 0]))
    humps: list[list[int]] = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if humps and a - humps[-1][1] < 0.05 * 300:
            humps[-1][1] = b
        else:
            humps.append([a, b])
    assert sum(1 for a, b in humps if a > 0 and b < len(f)) == n
    stance = np.diff(fc.contacts_s, axis=1)
    assert (stance > 0.2).all() and (stance < 0.32).all()


@needs_c3d
def test_c3d_trial_reads_markers_and_platform() -> None:
    from footdt.gait.c3d import read_c3d_trial

    c3d = read_c3d_trial(RBDS / "RBDS001runT35.c3d")
    assert c3d.marker_rate_hz == 150.0 and c3d.analog_rate_hz == 300.0
    assert len(c3d.markers) == 32 and {"R.MT1", "L.MT5", "R.Heel.Bottom"} <= set(c3d.markers)
    heel = c3d.markers["R.Heel.Bottom"]
    assert heel.shape == (4500, 3) and 0.02 < np.nanmin(heel[:, 1]) < 0.06  # lab Y up, m
    (force,) = c3d.forces_n
    assert force.shape == (9000, 3) and 1450.0 < force[:, 1].max() < 1700.0  # vertical, N
    assert available_speeds(RBDS) == ["25", "35"]


def test_unknown_trial_is_a_clear_error() -> None:
    with pytest.raises(GaitDataError, match="no RBDS trial RBDS001runT99"):
        rbds_trial(RBDS, speed="99")


@needs_c3d
@pytest.mark.parametrize("rate", [100.0, None])
def test_leave_one_recording_out_meets_the_ic_target(rate: float | None) -> None:
    items = rbds_labelled(RBDS, rate_hz=rate)
    assert len(items) == 4 and {i.group for i in items} == {"RBDS001runT25", "RBDS001runT35"}
    res = leave_one_out(items)
    pooled = res["pooled"]["ic"]
    assert pooled["n_reference"] == 162 and pooled["median_abs_error_ms"] <= 10.0
    for name, row in res["recordings"].items():
        assert row["ic"]["n_missed"] == 0 and row["ic"]["n_false"] == 0, name
        assert row["ic"]["median_abs_error_ms"] <= 10.0, name
        # the fold's offset comes from the other speed only, and lies where the shipped one does
        assert 20.0 <= row["learned_ic_offset_ms"] <= 30.0
    # TO (the fall into the |a| dip) transfers across speeds: within 10 ms, none missed
    to = res["pooled"]["to"]
    assert to["median_abs_error_ms"] <= 10.0 and to["n_missed"] == 0 and to["n_false"] == 0


def test_ic_within_10_ms_median_and_no_missed_strides(result: dict) -> None:
    pooled = result["pooled_foot_tibia"]["ic"]
    assert pooled["median_abs_error_ms"] <= 10.0
    assert pooled["n_missed"] == 0 and pooled["n_false"] == 0
    assert pooled["n_reference"] == 77
    for leg in result["legs"].values():
        assert leg["foot+tibia"]["ic"]["n_missed"] == 0
        assert leg["issues"] == []  # gravity, axes and side checks pass on real (virtual) sensors
    assert result["pass"] is True


def test_toe_off_and_stance_are_close(result: dict) -> None:
    # the shipped TO is the fall into the |a| dip: it comes at the force-plate TO (the dip
    # itself lags it by ~25 ms at 2.5 m/s)
    to = result["pooled_foot_tibia"]["to"]
    assert to["n_missed"] == 0 and to["median_abs_error_ms"] <= 10.0
    for leg in result["legs"].values():
        assert leg["foot+tibia"]["stance_s_median"] == pytest.approx(
            leg["force_stance_s_median"], abs=0.03
        )


def test_virtual_sensor_magnitudes_match_reference(result: dict) -> None:
    # REFERENCE.md: marker-derived (15 Hz) distal-shank |a| p99 ~4.9 g, heel ~6.4 g at 2.5 m/s
    for leg in result["legs"].values():
        assert 3.5 <= leg["virtual_p99_g"]["tibia"] <= 5.5
        assert 5.0 <= leg["virtual_p99_g"]["foot"] <= 7.0


def test_swapped_rbds_axes_are_caught() -> None:
    rec = rbds_recording(RBDS, "right")
    swapped = Recording(
        rec.time, rec.rate_hz, {s: a[:, [2, 1, 0]] for s, a in rec.acc.items()}, source="rbds"
    )
    with pytest.raises(
        GaitDataError, match=r"foot: gravity \(mean over whole strides\) reads along \+x"
    ):
        analyse(swapped)
    mirrored_wrongly = Recording(
        rec.time, rec.rate_hz, {s: a * np.array([1, -1, 1]) for s, a in rec.acc.items()}
    )
    _, issues = analyse(mirrored_wrongly)
    assert [i.code for i in issues] == ["side_mismatch"]


@needs_c3d
def test_suggested_frame_gives_the_correct_frames_events() -> None:
    """A tibia leaning ~45 deg at mid-stance (3.5 m/s) reads gravity as much on x as on z: the
    suggestion takes x from the late-swing deceleration first, and its events are the same."""
    from footdt.gait.events import detect_events
    from footdt.gait.io import parse_sensor

    rec = rbds_recording(RBDS, "left", speed="25")
    cols = {s: ("c0", "c1", "c2") for s in rec.sensors}
    wrong = {s: a[:, [2, 1, 0]] for s, a in rec.acc.items()}
    _, issues = analyse(Recording(rec.time, rec.rate_hz, wrong, "left", "w", cols), strict=False)
    fixed = {}
    for s in rec.sensors:
        (issue,) = [i for i in issues if i.code == "axes_swapped" and i.sensor == s]
        decl = parse_sensor(issue.message.split("--sensors ")[-1].split(" (")[0])
        fixed[s] = wrong[s][:, [int(c[1]) for c in decl.columns]] * np.array(decl.signs)
        np.testing.assert_allclose(fixed[s][:, [0, 2]], rec.acc[s][:, [0, 2]])
    ev0 = detect_events(rec)
    ev1 = detect_events(Recording(rec.time, rec.rate_hz, fixed, "left", "f", cols))
    assert [s.ic_s for s in ev1.strides] == [s.ic_s for s in ev0.strides]
