"""``footdt run`` and ``footdt status`` as commands: JSON with stable keys, tables, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from footdt.cli.run import register
from tests.pipeline.conftest import make_cohort

app = typer.Typer()
register(app)
runner = CliRunner()


def test_run_then_status_json_and_tables(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort", subjects=2, trials=1)
    store = str(tmp_path / "labels.db")
    bad = cohort / "r02" / "t1" / "spec.yaml"
    bad.write_text(bad.read_text().replace("zmax", "no_such_face"))
    res = runner.invoke(app, ["run", str(cohort), "--store", store, "--workers", "2", "--json"])
    assert res.exit_code == 1
    assert "1 of 2 trials failed" in res.stderr and "re-run the same command" in res.stderr
    out = json.loads(res.stdout)
    assert set(out) >= {"cohort", "backend", "store", "out", "executor", "workers",
                        "threads_per_worker", "wall_time_s", "counts", "trials"}  # fmt: skip
    assert out["counts"] == {"done": 1, "up_to_date": 0, "failed": 1}
    t = out["trials"][1]
    assert (t["subject"], t["status"], t["failed_step"]) == ("r02", "failed", "compile")
    assert "no_such_face" in t["reason"] and Path(t["log"]).is_file()

    res = runner.invoke(app, ["status", str(cohort), "--store", store, "--json"])
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert rows[0]["updated_at"] and rows[1]["updated_at"]
    assert [(r["subject"], r["status"], r["step"]) for r in rows] == [
        ("r01", "done", ""), ("r02", "failed", "compile"),
    ]  # fmt: skip
    assert set(rows[0]) == {"backend", "subject", "trial", "status", "step", "reason", "updated_at"}

    bad.write_text(bad.read_text().replace("no_such_face", "zmax"))
    res = runner.invoke(app, ["status", str(cohort), "--store", store])
    assert res.exit_code == 0 and "stale" in res.stdout and "spec changed" in res.stdout
    res = runner.invoke(app, ["run", str(cohort), "--store", store])
    assert res.exit_code == 0, res.stderr
    assert "1 done, 1 up to date, 0 failed" in res.stdout.replace("\n", " ")
    res = runner.invoke(app, ["status", str(cohort), "--store", store])
    assert "2 done; 2 of 2 subjects complete" in res.stdout.replace("\n", " ")


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort", subjects=1, trials=1)
    (cohort / "r01" / "t1" / "imu.npz").unlink()
    store = tmp_path / "labels.db"
    res = runner.invoke(app, ["run", str(cohort), "--store", str(store)])
    assert res.exit_code == 1
    assert res.stderr.startswith("error:") and res.stderr.count("\n") == 1
    assert "imu file r01/t1/imu.npz does not exist" in res.stderr
    assert not store.exists() and not (cohort / "runs").exists()
    res = runner.invoke(app, ["status", str(cohort), "--store", str(store)])
    assert res.exit_code == 1 and not store.exists()
    res = runner.invoke(app, ["run", str(cohort), "--scheduler", "tcp://x:1"])
    assert res.exit_code == 1 and "--scheduler needs --executor dask" in res.stderr
