"""`footdt predict` through typer's CliRunner: outputs, and one-line refusals with no output file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from footdt.cli.predict import CSV_COLUMNS, app
from tests.twin.conftest import COLUMNS, TwinCohort, write_recording_csv

runner = CliRunner()


def _invoke(*args: object) -> Result:
    return runner.invoke(app, ["predict", *(str(a) for a in args)], catch_exceptions=False)


def _new(tc: TwinCohort) -> tuple[Path, Path, float]:
    """(recording CSV, its imu.npz, body mass) of the first new runner's first trial."""
    s = tc.new.subjects[0]
    return tc.recordings[(s.id, s.trials[0].id)], tc.root / "new" / s.trials[0].imu, s.body_mass_kg


def test_predict_writes_csv_json_and_plot(twin_cohort: TwinCohort, tmp_path: Path) -> None:
    csv, _, mass = _new(twin_cohort)
    out = tmp_path / "sub" / "pred.csv"
    res = _invoke(
        twin_cohort.run, csv, "--static", f"body_mass={mass}", "--out", out, "--plot", "--json"
    )
    assert res.exit_code == 0, res.output
    pay = json.loads(res.stdout)
    frame = pd.read_csv(out)
    assert tuple(frame.columns) == CSV_COLUMNS
    k = len(pay["targets"])
    assert k == 4 and len(frame) == pay["n_strides"] * k
    assert set(frame.stat) == {"mean", "p99"} and frame.ood.dtype == bool
    assert (frame.lower_mpa <= frame.pred_mpa).all() and (frame.pred_mpa <= frame.upper_mpa).all()
    assert {"run", "recording", "side", "side_source", "rate_hz", "resampled_from_hz", "n_strides",
            "n_detected", "interval", "ood", "targets", "damage", "issues", "out", "plot"} <= set(pay)  # fmt: skip
    assert pay["side"] == "right" and pay["interval"]["n_calibration_trials"] == 10
    t = pay["targets"][0]
    assert {"target", "phase", "bone", "stat", "median_stride_mpa", "recording_mpa", "lower_mpa",
            "upper_mpa", "ood_fraction", "damage_index"} == set(t)  # fmt: skip
    assert t["median_stride_mpa"] == pytest.approx(
        np.median(frame[frame.target == t["target"]].pred_mpa), rel=1e-5
    )
    assert Path(pay["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = _invoke(
        twin_cohort.run, csv, "--static", f"body_mass={mass}", "--out", tmp_path / "t.csv"
    )
    assert res.exit_code == 0, res.output
    assert "recording [90 %]" in res.stdout and "damage" in res.stdout and "wrote" in res.stdout


def test_sensor_declarations_map_columns(twin_cohort: TwinCohort, tmp_path: Path) -> None:
    csv, _, mass = _new(twin_cohort)
    renamed = tmp_path / "renamed.csv"
    text = csv.read_text().replace(",".join(COLUMNS), "fx,fy,fz,tx,ty,tz", 1)
    renamed.write_text(text)
    res = _invoke(twin_cohort.run, renamed, "tibia=tx,ty,tz", "--sensors", "foot=fx,fy,fz",
                  "--static", f"body_mass={mass}", "--out", tmp_path / "a.csv", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    ref = _invoke(
        twin_cohort.run, csv, "--static", f"body_mass={mass}", "--out", tmp_path / "b.csv"
    )
    assert ref.exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))


def _refused(res: Result, out: Path, *needles: str) -> None:
    assert res.exit_code != 0
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    joined = " ".join(res.stderr.split())
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert "Traceback" not in res.output, res.output
    for n in needles:
        assert n in joined, joined
    assert not out.exists() and not out.with_suffix(".png").exists()


def test_bad_inputs_are_refused_in_one_line(twin_cohort: TwinCohort, tmp_path: Path) -> None:
    csv, imu, mass = _new(twin_cohort)
    out = tmp_path / "never.csv"
    args = ("--static", f"body_mass={mass}", "--out", out, "--plot")
    slow = write_recording_csv(imu, tmp_path / "r50.csv", every=2)
    _refused(
        _invoke(twin_cohort.run, slow, *args),
        out,
        "sampled at 50 Hz",
        "trained on 100 Hz",
        "--resample",
    )
    left = write_recording_csv(imu, tmp_path / "left.csv", flip_y=True)
    _refused(
        _invoke(twin_cohort.run, left, *args),
        out,
        "left-leg recording",
        "right-leg recordings only",
    )
    _refused(
        _invoke(twin_cohort.run, left, "--side", "right", *args), out, "tilts", "pass --side left"
    )
    t = np.arange(0.0, 10.0, 0.01)
    still = np.tile([0.1, 0.2, 9.81, 0.3, 0.1, 9.8], (len(t), 1))
    still += np.random.default_rng(0).normal(0, 0.05, still.shape)
    np.savetxt(tmp_path / "still.csv", np.c_[t, still], delimiter=",", comments="",
               header="time_s," + ",".join(COLUMNS))  # fmt: skip
    _refused(
        _invoke(twin_cohort.run, tmp_path / "still.csv", "--side", "right", *args),
        out,
        "no strides found",
    )
    gone = tmp_path / "nocol.csv"
    gone.write_text(csv.read_text().replace("tibia_az", "tibia_z", 1))
    _refused(_invoke(twin_cohort.run, gone, *args), out, "column(s) tibia_az not found")
    run = shutil.copytree(twin_cohort.run, tmp_path / "run")
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "version": 2}))
    _refused(_invoke(run, csv, *args), out, "run format version 2", "reads run version 1")
    _refused(_invoke(twin_cohort.run, csv, "--out", out), out, "pass --static body_mass=<kg>")
    _refused(_invoke(twin_cohort.run, csv, "--sensors", "foot=foot_ax,foot_ay,foot_az", *args), out,
             "the run needs sensor(s) tibia", "--sensors tibia=colx,coly,colz")  # fmt: skip
    (run / "run.json").write_text(json.dumps({**meta, "cohort": str(tmp_path / "moved")}))
    _refused(_invoke(run, csv, *args), out, "has no manifest.json here", "pass --cohort DIR")
    _refused(
        _invoke(twin_cohort.run, csv, "--static", "body_mass", "--out", out),
        out,
        "expected name=value",
    )
    for bad, why in (
        ("76138", "is it in g? that is 76.14 kg"),
        ("nan", "finite"),
        ("-76", "20-250 kg"),
    ):
        _refused(_invoke(twin_cohort.run, csv, "--static", f"body_mass={bad}", "--out", out), out,
                 f"--static body_mass={bad}", why)  # fmt: skip
