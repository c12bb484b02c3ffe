"""Evaluation of a hand-made run: baseline comparison, Table 1, figures and the HTML report."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd
import pytest

from footdt.evaluate.report import html_report
from footdt.evaluate.run import evaluate_run
from footdt.learn.rundir import RunDirError
from tests.evaluate.fake_run import make_run


def test_evaluation_finds_the_one_target_the_model_wins(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    s = evaluate_run(run)
    assert s["model_beats"]["body_mass"] == 1 and s["n_targets"] == 2 and s["n_subjects"] == 8
    by = {t["target"]: t for t in s["targets"]}
    assert by["mid_stance.metatarsal_2.mean"]["beats_body_mass"]
    assert not by["push_off.metatarsal_2.peak"]["beats_body_mass"]
    assert by["mid_stance.metatarsal_2.mean"]["model"]["rmse"] == pytest.approx(0.1)
    assert by["mid_stance.metatarsal_2.mean"]["p_vs_body_mass"] < 0.05
    assert s["importance"][0]["permuted"] == "foot" and s["importance"][0]["importance_mean"] > 0
    json.dumps(s)  # JSON-ready
    t1 = pd.read_csv(run / "evaluation" / "table1.csv")
    assert list(t1.beats_body_mass) == [True, False] and list(t1.best) == ["model", "body_mass"]
    md = (run / "evaluation" / "table1.md").read_text()
    assert "lower RMSE than the body-mass baseline on 1 of 2 targets" in md and "| NO |" in md
    # p = 0.008 for 8 subjects; Holm over the 2 targets doubles the smaller p: still < 0.05
    assert by["mid_stance.metatarsal_2.mean"]["p_holm_vs_body_mass"] == pytest.approx(
        2 * by["mid_stance.metatarsal_2.mean"]["p_vs_body_mass"]
    )
    assert s["model_beats_significant"]["body_mass"] == 1 and "yes, significant" in md
    assert s["p_correction"] == {"baselines": "holm", "groups": "fdr_bh"}
    assert {"metrics.csv", "groups.csv", "summary.json"} <= {
        p.name for p in (run / "evaluation").iterdir()
    }


def test_html_report_names_the_mode_and_puts_baselines_first(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    out = html_report(run, tmp_path / "report.html")
    page = out.read_text()
    assert "TRANSDUCTIVE" in page
    assert page.index("Baselines first") < page.index("Table 1")
    assert "<b>1 of 2</b>" in page
    # winning on only half the targets is not "most": the verdict says so, before Table 1
    assert page.index("has not shown that it uses the IMU") < page.index("Table 1")
    imgs = page.count("data:image/png;base64,")
    assert imgs == 5  # violins, correlation, Bland-Altman, groups, importance
    first = page.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(first)[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("mape_violins", "correlation", "bland_altman", "groups", "importance"):
        assert (run / "evaluation" / "figures" / f"{name}.png").stat().st_size > 1000


def test_a_model_losing_to_body_mass_is_flagged(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", domain_adaptation="none")
    pred = pd.read_csv(run / "predictions.csv")
    pred.loc[pred.predictor == "model", "pred_mpa"] += 10  # now worse than everything
    pred.to_csv(run / "predictions.csv", index=False)
    page = html_report(run, tmp_path / "r.html").read_text()
    assert "<b>0 of 2</b>" in page and "has not shown that it uses the IMU" in page
    assert "Domain adaptation: <b>none</b>" in page


def test_unfinished_or_missing_runs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no run.json"):
        evaluate_run(tmp_path)
    run = make_run(tmp_path / "run", status="running")
    with pytest.raises(RunDirError, match="did not finish"):
        evaluate_run(run)
