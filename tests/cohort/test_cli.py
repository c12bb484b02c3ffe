"""``footdt cohort generate | show`` (the typer app the lead registers as ``footdt cohort``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footdt.cli.cohort import app
from tests.cohort.conftest import cohort_spec_text, write_template

SUBJECT_KEYS = {"id", "group", "body_mass_kg", "height_m", "foot_length_mm", "trials"}
TRIAL_KEYS = {"id", "speed_m_s", "imu", "spec", "pressure", "windows_shape"}


def test_show_json_keys(small_cohort: Path) -> None:
    res = CliRunner().invoke(app, ["show", str(small_cohort), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == {"cohort", "seed", "description", "n_subjects", "n_rearfoot",
                         "n_non_rearfoot", "n_trials", "subjects"}  # fmt: skip
    assert (data["n_subjects"], data["n_rearfoot"], data["n_non_rearfoot"], data["n_trials"]) == (4, 3, 1, 8)  # fmt: skip
    for s in data["subjects"]:
        assert set(s) == SUBJECT_KEYS and s["group"] in ("rearfoot", "non_rearfoot")
        for t in s["trials"]:
            assert set(t) == TRIAL_KEYS
            assert t["windows_shape"][1:] == [300, 6] and t["windows_shape"][0] >= 6


def test_show_table_and_plot(small_cohort: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["show", str(small_cohort), "--plot", str(tmp_path / "c.png")])
    assert res.exit_code == 0, res.output
    assert "R001" in res.stdout and "rearfoot" in res.stdout
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_generate_json_and_errors(tmp_path: Path) -> None:
    write_template(tmp_path)
    (tmp_path / "c.yaml").write_text(cohort_spec_text(n=2, trials=1, seed=5))
    res = CliRunner().invoke(app, ["generate", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "o"), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["n_subjects"] == 2 and data["seed"] == 5
    assert (tmp_path / "o" / "manifest.json").is_file()
    again = CliRunner().invoke(app, ["generate", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "o")])  # fmt: skip
    assert again.exit_code == 1 and "not empty" in again.output
    bad = CliRunner().invoke(app, ["show", str(tmp_path)])
    assert bad.exit_code == 1 and "not a cohort directory" in bad.output


def test_generate_size_sets_every_trial_mesh_and_writes_the_recording_csv(tmp_path: Path) -> None:
    """``--size`` (mm) goes into every trial spec, checked as ``footdt demo --size``; each trial
    also gets its recording as a sensor-export CSV that reads back as ``imu.npz``'s."""
    import numpy as np

    from footdt.gait.io import read_recording
    from footdt.spec.loader import load_spec

    write_template(tmp_path)
    (tmp_path / "c.yaml").write_text(cohort_spec_text(n=2, trials=1, seed=5))
    for size in ("0", "40", "nan", "-3"):
        bad = CliRunner().invoke(app, ["generate", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "b"), "--size", size])  # fmt: skip
        assert bad.exit_code == 1, bad.output
        assert "element size must be in (0, 12] mm" in bad.output and not (tmp_path / "b").exists()
    res = CliRunner().invoke(app, ["generate", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "o"), "--size", "6", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "o" / "generation.json").read_text())["mesh_size_mm"] == 6.0
    trials = sorted((tmp_path / "o").glob("R*/T*"))
    assert len(trials) == 2
    for d in trials:
        assert load_spec(d / "spec.yaml").spec.mesh.size == 6.0
        rec = read_recording(d / "recording.csv", ["foot=foot_ax,foot_ay,foot_az",
                                                   "tibia=tibia_ax,tibia_ay,tibia_az"])  # fmt: skip
        with np.load(d / "imu.npz") as z:
            raw, rate = z["recording"], float(z["recording_rate_hz"])
        assert rec.rate_hz == pytest.approx(rate)
        assert np.allclose(rec.acc["foot"], raw[:, :3], atol=1e-6)
        assert np.allclose(rec.acc["tibia"], raw[:, 3:], atol=1e-6)
