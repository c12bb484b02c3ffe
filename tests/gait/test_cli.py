"""`footdt gait detect | windows` through typer's CliRunner: stable JSON keys, files, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from footdt.cli.gait import app
from tests.gait.synth import running_signal, write_csv

runner = CliRunner()
SENSORS = ["--sensors", "foot=foot_ax,foot_ay,foot_az", "tibia=tibia_ax,tibia_ay,tibia_az"]
DETECT_KEYS = [
    "recording", "side", "mirrored", "rate_hz", "units", "source_units", "sensors", "duration_s",
    "stride_period_s", "cadence_spm", "n_strides", "n_flagged", "strides", "issues",
]  # fmt: skip
STRIDE_KEYS = ["index", "ic_s", "to_s", "next_ic_s", "ic_peak_g", "flags", "stance_s", "stride_s"]
WINDOWS_KEYS = [
    "out", "shape", "channels", "phases", "samples_per_phase", "units", "n_strides", "n_detected",
    "n_dropped_flagged", "phase_bounds", "issues",
]  # fmt: skip


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    t, acc, ic, _ = running_signal(n_strides=8, seed=2)
    return write_csv(tmp_path_factory.mktemp("rec") / "run.csv", t, acc, units="g"), ic


def test_detect_json_keys_are_stable(recording, tmp_path: Path) -> None:
    path, ic = recording
    png = tmp_path / "events.png"
    res = runner.invoke(app, ["detect", str(path), *SENSORS, "--rate", "100", "--units", "g",
                              "--plot", str(png), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data) == DETECT_KEYS
    assert list(data["strides"][0]) == STRIDE_KEYS
    assert data["n_strides"] == len(ic) and data["units"] == "m/s^2" and data["source_units"] == "g"
    assert [s["ic_s"] for s in data["strides"]] == pytest.approx(ic, abs=0.01)
    assert data["issues"] == [] and png.stat().st_size > 10_000


def test_detect_table_and_repeated_sensor_option(recording) -> None:
    path, _ = recording
    args = ["detect", str(path), "-s", "foot=foot_ax,foot_ay,foot_az", "-s", "tibia=tibia_ax,tibia_ay,tibia_az",
            "--units", "g"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "8 strides" in res.stdout and "stance (s)" in res.stdout


def test_windows_writes_npz_and_json(recording, tmp_path: Path) -> None:
    path, ic = recording
    out = tmp_path / "trial.npz"
    res = runner.invoke(
        app, ["windows", str(path), *SENSORS, "--units", "g", "--out", str(out), "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data) == WINDOWS_KEYS
    assert data["shape"] == [len(ic), 300, 6] and data["samples_per_phase"] == 100
    assert data["channels"] == ["foot_ax", "foot_ay", "foot_az", "tibia_ax", "tibia_ay", "tibia_az"]
    assert data["phases"] == ["initial_contact", "mid_stance", "push_off"]
    with np.load(out) as z:
        assert z["windows"].shape == (len(ic), 300, 6) and str(z["units"]) == "m/s^2"
        assert z["ic_s"] == pytest.approx(ic, abs=0.01)


def test_bad_input_is_one_line_and_nonzero(recording, tmp_path: Path) -> None:
    path, _ = recording
    res = runner.invoke(
        app, ["detect", str(path), "--sensors", "foot=foot_ax,foot_az,foot_ay", "--units", "g"]
    )
    assert res.exit_code == 1
    assert (
        "error:" in res.output
        and "axes look swapped" in res.output
        and "Traceback" not in res.output
    )
    res = runner.invoke(app, ["detect", str(path), *SENSORS])  # file is in g, declared m/s^2
    assert res.exit_code == 1 and "use --units g" in res.output
    res = runner.invoke(app, ["detect", *SENSORS])
    assert res.exit_code == 1 and "expected one recording file, got 0" in res.output
    res = runner.invoke(app, ["detect", str(tmp_path / "none.csv"), *SENSORS])
    assert res.exit_code == 1 and "no such file" in res.output


def test_lenient_mode_reports_errors_as_issues(recording) -> None:
    path, _ = recording
    args = [
        "detect",
        str(path),
        "--sensors",
        "foot=foot_ax,foot_az,foot_ay",
        "--units",
        "g",
        "--no-strict",
        "--json",
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    codes = [i["code"] for i in json.loads(res.stdout)["issues"]]
    assert codes == ["axes_swapped"]
