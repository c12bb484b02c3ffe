"""`footdt train | evaluate | report | tune` through typer's CliRunner on a tiny synthetic cohort."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from footdt.cli.learn import app
from tests.conftest import SPECS
from tests.learn.synthetic import Synthetic, make_cohort

runner = CliRunner()
QUICK = SPECS / "experiments" / "quick.yaml"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    return make_cohort(tmp_path_factory.mktemp("cli"), n_subjects=4, n_trials=2, n_strides=2)


def _invoke(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_train_evaluate_report(cohort: Synthetic, tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = _invoke("train", QUICK, "--store", cohort.store, "--cohort", cohort.cohort, "--out", out,
                  "--max-folds", "2", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    run = json.loads(res.stdout[res.stdout.index("{") :])
    assert run["status"] == "complete" and run["architecture"] == "cnn1d" and run["n_folds"] == 2
    res = _invoke("evaluate", out, "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert {"model_beats", "targets", "groups", "domain_adaptation", "partial"} <= set(s)
    assert s["partial"] and s["n_targets"] == 4 and s["n_subjects"] == 2
    assert {"model", "mean", "body_mass", "ridge", "beats_body_mass"} <= set(s["targets"][0])
    res = _invoke("evaluate", out)
    assert res.exit_code == 0 and "beats body mass" in res.stdout
    res = _invoke("report", out, "--out", tmp_path / "r.html")
    assert res.exit_code == 0 and (tmp_path / "r.html").stat().st_size > 10_000
    res = _invoke("train", QUICK, "--store", cohort.store, "--cohort", cohort.cohort, "--out", out)
    assert res.exit_code == 1 and "already holds a run; pass --force" in res.output


def test_tune_resumes(cohort: Synthetic, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    args = (
        "tune",
        QUICK,
        "--store",
        cohort.store,
        "--cohort",
        cohort.cohort,
        "--storage",
        storage,
        "--json",
    )
    first = _invoke(*args, "--trials", "1")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout[first.stdout.index("{") :])["n_trials"] == 1
    second = _invoke(*args, "--trials", "2")
    got = json.loads(second.stdout[second.stdout.index("{") :])
    assert got["n_trials"] == 2 and got["scope"] == "all" and got["study"] == "quick.cnn1d.all"
    held = _invoke(*args, "--trials", "1", "--held-out", "S02")
    got = json.loads(held.stdout[held.stdout.index("{") :])
    assert got["study"] == "quick.cnn1d.loso-S02" and "S02" not in got["subjects"]


def test_errors_are_one_line(cohort: Synthetic, tmp_path: Path) -> None:
    res = _invoke(
        "train",
        QUICK,
        "--store",
        tmp_path / "none.db",
        "--cohort",
        cohort.cohort,
        "--out",
        tmp_path / "r",
    )
    assert res.exit_code != 0 and "error:" in res.output and "no label store" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = _invoke("evaluate", tmp_path)
    assert res.exit_code == 1 and "not a footdt run directory" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "kind: experiment\nid: x\nmodel: {architecture: lstm, hyperparameters: {unitz: 3}}\n"
    )
    res = _invoke(
        "train", bad, "--store", cohort.store, "--cohort", cohort.cohort, "--out", tmp_path / "r2"
    )
    # refused when the spec is read (a spec error, exit 2), with the line and a suggestion
    assert (
        res.exit_code == 2 and "model.hyperparameters.unitz: unknown hyperparameter" in res.output
    )
    other = make_cohort(tmp_path / "other", n_subjects=3, n_trials=1, n_strides=1, write=False)
    res = _invoke("tune", QUICK, "--store", cohort.store, "--cohort", other.cohort, "--trials", "1")
    assert res.exit_code == 1 and "have labels in the store but are not in the cohort" in res.output
