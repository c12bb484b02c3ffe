"""Ingestion: declared columns and units, delimiters, time column or rate, resampling, sides, C3D."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from footdt.gait.io import parse_sensor, read_imu_c3d, read_imu_table, read_recording, resample
from footdt.gait.recording import G, GaitDataError, Recording
from tests.gait.synth import SENSOR_ARGS, running_signal, write_csv


@pytest.fixture(scope="module")
def signal():
    return running_signal(n_strides=6)


def test_parse_sensor_with_sign_flip() -> None:
    s = parse_sensor("foot=ax, -az ,ay")
    assert s.sensor == "foot" and s.columns == ("ax", "az", "ay") and s.signs == (1.0, -1.0, 1.0)
    with pytest.raises(GaitDataError, match="expected name=colx,coly,colz"):
        parse_sensor("foot=ax,ay")


def test_csv_in_g_with_time_column_equals_tsv_in_ms2(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    a = read_imu_table(write_csv(tmp_path / "a.csv", t, acc, units="g"), SENSOR_ARGS, units="g")
    b = read_imu_table(
        write_csv(tmp_path / "b.tsv", t, acc, units="m/s^2", sep="\t"), SENSOR_ARGS, units="m/s2"
    )
    assert a.rate_hz == pytest.approx(100.0) and a.source_units == "g"
    for s in ("foot", "tibia"):
        np.testing.assert_allclose(a.acc[s], acc[s], atol=1e-5 * G)  # 6 decimals in g
        np.testing.assert_allclose(b.acc[s], acc[s], atol=1e-5)
    assert a.columns["tibia"] == ("tibia_ax", "tibia_ay", "tibia_az")
    assert not a.issues


def test_semicolon_and_declared_rate_without_time(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    p = write_csv(tmp_path / "c.txt", t, acc, sep=";", time=False)
    rec = read_imu_table(p, SENSOR_ARGS, units="g", rate_hz=100.0)
    np.testing.assert_allclose(rec.time, np.arange(len(t)) / 100.0)
    with pytest.raises(GaitDataError, match="no time column found .* declare the sampling rate"):
        read_imu_table(p, SENSOR_ARGS, units="g")


def test_time_in_ms_and_mapping_declaration(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    p = write_csv(tmp_path / "d.csv", t * 1000.0, acc, time_name="timestamp")
    with pytest.raises(
        GaitDataError, match=r"time column .timestamp. steps by 10 s \(0.1 Hz\).*--time-unit ms"
    ):
        read_imu_table(p, SENSOR_ARGS, units="g", rate_hz=100.0)
    rec = read_imu_table(p, {"foot": ["foot_ax", "-foot_ay", "foot_az"]}, units="g", time_unit="ms")
    assert rec.sensors == ("foot",)
    np.testing.assert_allclose(rec.acc["foot"][:, 1], -acc["foot"][:, 1], atol=1e-5 * G)


def test_left_recording_is_mirrored(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    p = write_csv(tmp_path / "l.csv", t, acc)
    rec = read_imu_table(p, SENSOR_ARGS, units="g", side="left")
    assert rec.mirrored and rec.side == "left"
    np.testing.assert_allclose(rec.acc["foot"][:, 1], -acc["foot"][:, 1], atol=1e-5 * G)
    np.testing.assert_allclose(rec.acc["foot"][:, [0, 2]], acc["foot"][:, [0, 2]], atol=1e-5 * G)


def test_missing_column_is_named(tmp_path: Path, signal) -> None:
    t, acc, _, _ = signal
    p = write_csv(tmp_path / "e.csv", t, acc)
    with pytest.raises(
        GaitDataError, match="column\\(s\\) shank_x not found; columns are time, foot_ax"
    ):
        read_imu_table(p, ["foot=foot_ax,foot_ay,foot_az", "tibia=shank_x,tibia_ay,tibia_az"])


def test_resampling_keeps_a_slow_signal_and_the_time_base() -> None:
    rate = 250.0
    t = np.arange(0, 4, 1 / rate)
    sig = np.stack([np.sin(2 * np.pi * 3 * t), np.cos(2 * np.pi * 2 * t), np.full_like(t, G)], 1)
    rec = Recording(t, rate, {"foot": sig})
    for target in (100.0, 100.0 * np.sqrt(2)):  # a fraction and an irrational ratio
        out = resample(rec, target)
        assert out.rate_hz == target and out.time[1] - out.time[0] == pytest.approx(1 / target)
        expect = np.stack([np.sin(2 * np.pi * 3 * out.time), np.cos(2 * np.pi * 2 * out.time)], 1)
        inner = slice(10, -10)  # filter edge effects
        np.testing.assert_allclose(out.acc["foot"][inner, :2], expect[inner], atol=2e-3)
        np.testing.assert_allclose(out.acc["foot"][:, 2], G, rtol=1e-4)  # FIR ripple


def test_resampling_on_read(tmp_path: Path) -> None:
    t, acc, _, _ = running_signal(n_strides=4, rate_hz=200.0)
    p = write_csv(tmp_path / "r.csv", t, acc)
    rec = read_imu_table(p, SENSOR_ARGS, units="g", target_rate_hz=100.0)
    assert rec.rate_hz == 100.0 and rec.n == pytest.approx(len(t) / 2, abs=1)


def test_c3d_without_ezc3d_says_what_to_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ezc3d", None)  # import fails
    with pytest.raises(GaitDataError, match="needs ezc3d: pip install ezc3d"):
        read_recording(tmp_path / "x.c3d", SENSOR_ARGS)


def test_c3d_reads_analog_channels_by_label(tmp_path: Path, monkeypatch, signal) -> None:
    t, acc, _, _ = signal
    labels = ["Fz", "foot_ax", "foot_ay", "foot_az", "tibia_ax", "tibia_ay", "tibia_az"]
    analogs = np.concatenate([np.zeros((len(t), 1)), acc["foot"] / G, acc["tibia"] / G], 1).T[None]
    fake = types.SimpleNamespace(
        c3d=lambda path: {
            "parameters": {"ANALOG": {"LABELS": {"value": labels}, "RATE": {"value": [100.0]}}},
            "data": {"analogs": analogs},
        }
    )
    monkeypatch.setitem(sys.modules, "ezc3d", fake)
    rec = read_imu_c3d(tmp_path / "x.c3d", SENSOR_ARGS, units="g")
    assert rec.rate_hz == 100.0
    np.testing.assert_allclose(rec.acc["tibia"], acc["tibia"], rtol=1e-12)
    with pytest.raises(
        GaitDataError, match="declared rate 200 Hz but the C3D analog rate is 100 Hz"
    ):
        read_recording(tmp_path / "x.c3d", SENSOR_ARGS, rate_hz=200.0, units="g")
    with pytest.raises(GaitDataError, match="analog channel\\(s\\) nope not found"):
        read_imu_c3d(tmp_path / "x.c3d", ["foot=nope,foot_ay,foot_az"])


def _lines(tmp_path: Path, signal) -> list[str]:
    t, acc, _, _ = signal
    return write_csv(tmp_path / "base.csv", t, acc, units="g").read_text().splitlines()


def test_hostile_exports_are_read_or_refused_in_one_line(tmp_path: Path, signal) -> None:
    """A German spreadsheet export, a '--' cell, an 'END OF DATA' footer and a BOM read as the
    original; a row with extra fields and a text cell are refused naming the line or row."""
    lines = _lines(tmp_path, signal)
    ref = read_imu_table(tmp_path / "base.csv", SENSOR_ARGS, units="g")

    def read(name: str, text: str | bytes) -> Recording:
        p = tmp_path / name
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        return read_imu_table(p, SENSOR_ARGS, units="g")

    german = read("de.csv", "\n".join(ln.replace(",", ";").replace(".", ",") for ln in lines))
    dash = list(lines)
    dash[40] = dash[40].rsplit(",", 1)[0] + ",--"
    dashed = read("dash.csv", "\n".join(dash))
    footer = read("end.csv", "\n".join([*lines, "END OF DATA"]))
    bom = read("bom.csv", b"\xef\xbb\xbf" + "\n".join(lines).encode())
    keep = np.arange(len(ref.time)) != 39  # the '--' sample (data row 40) is interpolated
    for rec in (german, dashed, footer, bom):
        for s in ("foot", "tibia"):
            np.testing.assert_allclose(rec.acc[s][keep], ref.acc[s][keep], atol=1e-4)
    assert [i.code for i in dashed.issues] == ["gap_interpolated"] and "t=0.380" in dashed.issues[
        0
    ].message
    assert [i.code for i in footer.issues] == ["footer"] and "'END OF DATA'" in footer.issues[
        0
    ].message
    extra = list(lines)
    extra[60] += ",1.0,2.0"
    with pytest.raises(GaitDataError, match=r"line 61 has 9 fields but the header has 7"):
        read("extra.csv", "\n".join(extra))
    text = list(lines)
    text[10] = text[10].rsplit(",", 1)[0] + ",abc"
    with pytest.raises(GaitDataError, match=r"column 'tibia_az' holds 'abc' on data row 10"):
        read("text.csv", "\n".join(text))
    huge = list(lines)
    huge[10] = huge[10].rsplit(",", 1)[0] + ",1e300"
    with pytest.raises(
        GaitDataError, match=r"reads 1e\+300 g at t=0.090 s .* beyond any accelerometer"
    ):
        read("huge.csv", "\n".join(huge))


def test_not_a_file_is_not_called_missing(tmp_path: Path) -> None:
    with pytest.raises(GaitDataError, match="is a directory, not a recording"):
        read_recording(tmp_path, SENSOR_ARGS)
    with pytest.raises(GaitDataError, match="not a regular file"):
        read_recording("/dev/zero", SENSOR_ARGS)
    (tmp_path / "u16.csv").write_bytes("time,foot_ax\n0,1\n".encode("utf-16"))
    with pytest.raises(GaitDataError, match="UTF-16 .* UTF-8 CSV"):
        read_recording(tmp_path / "u16.csv", SENSOR_ARGS)
    with pytest.raises(GaitDataError, match="no such file"):
        read_recording(tmp_path / "none.csv", SENSOR_ARGS)


def test_units_hint_never_proposes_the_units_in_force() -> None:
    from footdt.gait.recording import units_hint

    assert units_hint(1.0, "m/s^2").endswith("use --units g")  # 1 m/s^2 read as m/s^2: it is g
    assert units_hint(1000.0 * G, "m/s^2").startswith("neither g nor m/s^2")
    assert units_hint(20.0 * G, "g").endswith("use --units m/s^2")  # 20 "g" = 20 m/s^2 ~ 2 g
    assert units_hint(0.01, "g").startswith("neither")
    for value, declared in ((1.0, "m/s^2"), (1000.0 * G, "m/s2"), (20.0 * G, "g"), (0.01, "g")):
        assert f"use --units {declared}" not in units_hint(value, declared)
