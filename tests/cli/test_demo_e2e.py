"""``footdt demo`` end to end on a tiny cohort (6 runners x 1 trial, 6 mm, 3 epochs): every stage
runs, the JSON summary and the files are there, a second run skips everything, and a changed
experiment re-runs only what depends on it. About two minutes (most of it building the shape
model and the template mesh in the test session's empty cache), hence slow."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from footdt.cli.app import app

KEYS = {"out", "options", "verification", "cohort", "foot_model", "fe", "selected", "peak_stat",
        "labels", "pictures", "learning", "evaluation", "new_runner", "prediction", "fe_check",
        "report", "stages", "wall_time_s", "summary_file"}  # fmt: skip
STAGES = ["cohort", "fe", "pictures", "train", "evaluate", "new_runner", "predict", "truth",
          "report"]  # fmt: skip


def _demo(out: Path, *extra: str) -> dict:
    args = ["demo", "--runners", "6", "--trials", "1", "--strides", "6", "--epochs", "3",
            "--size", "6", "--workers", "2", "--no-verify", "--out", str(out), "--json", *extra]  # fmt: skip
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.stderr[-3000:]
    return json.loads(res.stdout)


def _status(s: dict) -> dict[str, str]:
    return {r["stage"]: r["status"] for r in s["stages"]}


@pytest.mark.slow
def test_demo_runs_every_stage_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    s = _demo(out)
    assert set(s) == KEYS and [r["stage"] for r in s["stages"]] == STAGES
    assert set(_status(s).values()) == {"done"}
    assert s["cohort"]["n_runners"] == 6 and s["fe"]["n_trials"] == 6
    solved = s["selected"]["runners"]
    assert len(solved) >= 4 and s["learning"]["n_subjects"] == len(solved)
    assert s["evaluation"]["n_targets"] == 28 and len(s["labels"]) == 28
    assert {p["phase"] for p in s["pictures"]} == {"initial_contact", "push_off"}
    # the new runner is not one of the training runners, and its prediction came from its CSV
    assert s["new_runner"]["id"] not in solved
    pred = pd.read_csv(s["prediction"]["out"])
    assert len(pred) == s["prediction"]["n_strides"] * 28 >= 28
    assert (
        "footdt predict" in s["prediction"]["command"]
        and "--static body_mass=" in s["prediction"]["command"]
    )
    chk = s["fe_check"]
    assert chk is None or (chk["n_targets"] == 28 and 0 <= chk["n_inside"] <= 28)
    html = Path(s["report"]).read_text()
    for section in ("1. The synthetic cohort", "2. Finite-element models", "3. Labels",
                    "Baselines first", "bland altman", "Rearfoot vs non-rearfoot",
                    "5. The twin on a new runner"):  # fmt: skip
        assert section in html
    assert json.loads((out / "summary.json").read_text())["report"] == s["report"]

    again = _demo(out)  # nothing changed: every stage is up to date
    assert set(_status(again).values()) == {"up_to_date"}
    assert again["prediction"]["targets"] == s["prediction"]["targets"]
    assert again["wall_time_s"] < 30

    more = _demo(out, "--epochs", "4")  # another experiment: only learning and after run again
    st = _status(more)
    assert {k for k, v in st.items() if v == "done"} == {"train", "evaluate", "predict", "report"}
    assert more["learning"]["epochs"] == 4
