"""Bad input: each case gives a message naming column/time, or a flagged stride; never a silent zero."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from footdt.gait.checks import analyse, run_checks
from footdt.gait.events import detect_events
from footdt.gait.io import read_imu_table
from footdt.gait.phases import make_windows
from footdt.gait.recording import G, GaitDataError, NoStridesError, Recording
from tests.gait.synth import SENSOR_ARGS, running_signal, write_csv


@pytest.fixture(scope="module")
def signal():
    return running_signal(n_strides=10, seed=5)


def load(path: Path, sensors=SENSOR_ARGS, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("units", "g")
    strict = kw.pop("strict", True)
    rec = read_imu_table(path, sensors, **kw)
    return rec, *analyse(rec, strict=strict)


def test_clean_signal_has_no_issues(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    _, events, issues = load(write_csv(tmp_path / "ok.csv", t, acc))
    assert issues == [] and not any(s.flags for s in events.strides)


def test_declared_rate_disagrees_with_time_column(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    with pytest.raises(
        GaitDataError,
        match=r"declared rate 200 Hz but time column 'time' steps by 0.01 s \(100 Hz\)",
    ):
        read_imu_table(write_csv(tmp_path / "a.csv", t, acc), SENSOR_ARGS, rate_hz=200.0, units="g")


@pytest.mark.parametrize(("declared", "guess"), [(200.0, "about 100 Hz"), (50.0, "about 100 Hz")])
def test_wrong_rate_without_time_column_from_stride_frequency(
    tmp_path, signal, declared, guess
) -> None:
    t, acc, _, _ = signal
    p = write_csv(tmp_path / "b.csv", t, acc, time=False)
    with pytest.raises(
        GaitDataError, match=f"at the declared {declared:g} Hz the stride period .* {guess}"
    ):
        load(p, rate_hz=declared)


def test_short_nan_gap_is_interpolated_and_its_stride_flagged(tmp_path: Path, signal) -> None:
    t, acc, ic, _ = signal
    bad = {k: v.copy() for k, v in acc.items()}
    i = int((ic[3] + 0.1) * 100)  # mid-stance of the 4th stride
    bad["tibia"][i : i + 3, 1] = np.nan
    rec, events, issues = load(write_csv(tmp_path / "c.csv", t, bad))
    gap = [x for x in issues if x.code == "gap_interpolated"]
    assert len(gap) == 1 and gap[0].column == "tibia_ay" and "t=" in gap[0].message
    assert np.isfinite(rec.acc["tibia"]).all()
    flagged = [s.index for s in events.strides if "gap_interpolated" in s.flags]
    assert flagged == [3]
    assert make_windows(rec, events).meta["n_dropped_flagged"] == 1


def test_long_nan_gap_is_refused_with_column_and_time(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    bad = {k: v.copy() for k, v in acc.items()}
    bad["foot"][300:340, 2] = np.nan
    with pytest.raises(
        GaitDataError, match=r"column 'foot_az' has NaN/dropout samples from t=2.990 s to t=3.400 s"
    ):
        load(write_csv(tmp_path / "d.csv", t, bad))


def test_missing_rows_in_the_time_column(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    keep = np.ones(len(t), bool)
    keep[500:502] = False  # 2 samples: interpolated
    short = write_csv(tmp_path / "e.csv", t[keep], {k: v[keep] for k, v in acc.items()})
    _, _, issues = load(short)
    assert any(
        i.code == "gap_interpolated" and "time column 'time' jumps from t=4.990" in i.message
        for i in issues
    )
    keep[600:650] = False
    long = write_csv(tmp_path / "f.csv", t[keep], {k: v[keep] for k, v in acc.items()})
    with pytest.raises(
        GaitDataError, match=r"time column 'time' jumps from t=5.990 s to t=6.500 s"
    ):
        load(long)


def test_rows_of_zeros_are_dropouts_not_data(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    bad = {k: v.copy() for k, v in acc.items()}
    bad["foot"][400:402] = 0.0
    rec, _, issues = load(write_csv(tmp_path / "g.csv", t, bad))
    assert any(
        i.code == "dropout" and "2 rows of exact zeros from t=4.000 s" in i.message for i in issues
    )
    assert np.all(np.linalg.norm(rec.acc["foot"][398:404], axis=1) > 0.3 * G)


def test_clipped_sensor_is_reported_and_strides_flagged(tmp_path: Path, signal) -> None:
    t, acc, ic, _ = signal
    bad = {k: v.copy() for k, v in acc.items()}
    bad["foot"][:, 2] = np.minimum(bad["foot"][:, 2], 4.0 * G)  # a 4 g sensor range
    rec, events, issues = load(write_csv(tmp_path / "h.csv", t, bad))
    clipped = [i for i in issues if i.code == "clipped"]
    assert clipped and all(i.column == "foot_az" for i in clipped)
    assert "at its extreme +4.00 g" in clipped[0].message
    assert clipped[0].t_start_s == pytest.approx(ic[0], abs=0.02)
    assert all("clipped" in s.flags for s in events.strides)
    with pytest.raises(GaitDataError, match="all 10 strides are flagged \\(clipped\\)"):
        make_windows(rec, events)


def test_file_with_no_strides(tmp_path: Path) -> None:
    t = np.arange(0, 10, 0.01)
    rng = np.random.default_rng(1)
    still = {
        s: np.tile([0.0, 0.0, G], (len(t), 1)) + rng.normal(0, 0.01 * G, (len(t), 3))
        for s in ("foot", "tibia")
    }
    with pytest.raises(NoStridesError, match="i.csv \\(foot, tibia\\): no strides found"):
        load(write_csv(tmp_path / "i.csv", t, still))


def test_swapped_axes_are_detected_from_gravity(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    p = write_csv(tmp_path / "j.csv", t, acc)
    swapped = ["foot=foot_ax,foot_az,foot_ay", SENSOR_ARGS[1]]
    with pytest.raises(GaitDataError, match=r"foot: gravity \(mean over whole strides\) reads along \+y \(column 'foot_az'\).*"
                       r"try --sensors foot=foot_ax,foot_ay,foot_az"):  # fmt: skip
        load(p, swapped)
    flipped = ["foot=foot_ax,foot_ay,-foot_az", SENSOR_ARGS[1]]
    with pytest.raises(
        GaitDataError,
        match=r"along -z \(column '-foot_az'\).*try --sensors foot=foot_ax,foot_ay,foot_az ",
    ):
        load(p, flipped)
    x_flipped = [SENSOR_ARGS[0], "tibia=-tibia_ax,tibia_ay,tibia_az"]
    with pytest.raises(GaitDataError, match=r"tibia: the anterior direction .* reads along -x"):
        load(p, x_flipped)


def test_wrong_units_are_detected_from_gravity(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    with pytest.raises(
        GaitDataError,
        match=r"foot \(foot_ax, foot_ay, foot_az\): median \|a\| is 0.1.. g read as m/s\^2.*probably in g: use --units g",
    ):
        load(write_csv(tmp_path / "k.csv", t, acc, units="g"), units="m/s^2")
    with pytest.raises(GaitDataError, match="probably in m/s\\^2: use --units m/s\\^2"):
        load(write_csv(tmp_path / "l.csv", t, acc, units="m/s^2"), units="g")


def test_left_leg_declared_right_is_flagged(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    left = {k: v * np.array([1.0, -1.0, 1.0]) for k, v in acc.items()}  # a left sensor's own frame
    p = write_csv(tmp_path / "m.csv", t, left)
    _, _, ok = load(p, side="left")
    assert ok == []
    _, _, issues = load(p, side="right")
    side = [i for i in issues if i.code == "side_mismatch"]
    assert (
        len(side) == 1
        and side[0].column == "tibia_ay"
        and "is this a left-leg recording" in side[0].message
    )


def test_strict_raises_and_lenient_returns_errors(signal) -> None:
    t, acc, _, _ = signal
    rec = Recording(t, 100.0, {k: v[:, [0, 2, 1]] for k, v in acc.items()}, source="swap")
    ev = detect_events(rec)
    with pytest.raises(GaitDataError, match="axes look swapped"):
        run_checks(rec, ev)
    _, issues = run_checks(rec, ev, strict=False)
    assert {i.code for i in issues} == {"axes_swapped"} and all(
        i.severity == "error" for i in issues
    )


def test_frozen_sensor_is_reported_and_flagged(tmp_path: Path, signal) -> None:
    t, acc, ic, _ = signal
    bad = {k: v.copy() for k, v in acc.items()}
    i = int((ic[2] + 0.12) * 100)
    bad["tibia"][i : i + 5] = bad["tibia"][i]
    _, events, issues = load(write_csv(tmp_path / "n.csv", t, bad))
    frozen = [x for x in issues if x.code == "frozen"]
    assert len(frozen) == 1 and "repeats the same value for 5 samples" in frozen[0].message
    assert [s.index for s in events.strides if "frozen" in s.flags] == [2]
