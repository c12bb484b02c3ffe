"""The detector on synthetic rearfoot, midfoot and forefoot strikers, scored against the cohort
generator's true events (read through the cohort files: imu.npz and generation.json).

The detector's IC offset is learned on RBDS001, where |a| falls into foot-flat 23-27 ms after
force-plate contact: the foot's deceleration goes on while the ground arrests it. The cohort
generator before its rework (issue 12) agreed (24-25 ms; IC within 2.3 ms for every strike
type). The reworked generator ends the swing deceleration in a step at contact and peaks the
tissue-filtered impact 25-40 ms later, so |a| falls at contact and again ~50 ms after it, and IC
comes out +-20 ms (docs/gait.md). The 10 ms target is kept as an expected failure until the
generator's landing matches RBDS001's again.

Measured (100 Hz, foot+tibia, shipped offsets): this module's cohort (seed 7, 10 strides per
type) rearfoot 9.2 ms, midfoot 23.2 ms, forefoot 21.2 ms median |IC error|; the benchmark's
(seed 14, 200 strides per type) 18.0 / 21.8 / 22.0 ms. With seed 21 the foot's x deceleration
ends (steepest rise) 6-8 ms after the generator's IC, against 23-29 ms after force-plate contact
on RBDS001: ``footdt/cohort/imu.py`` grows the swing deceleration to its peak at contact and
hands over to a touchdown arrest (``_arrest``) that starts from zero deceleration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from footdt.gait.events import detect_events
from footdt.gait.recording import Recording
from footdt.gait.validate import pool, score
from tests.cohort.conftest import write_template
from tests.conftest import REPO


@pytest.fixture(scope="module")
def strikers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("strikers")
    spec = yaml.safe_load((REPO / "specs" / "cohorts" / "demo.yaml").read_text())
    spec.update(id="strikers", seed=7, n_runners=3, trials=1, strides_per_trial=10,
                rearfoot_fraction=1 / 3, forefoot_share=0.5,
                template=str(write_template(root)))  # fmt: skip
    (root / "spec.yaml").write_text(yaml.safe_dump(spec))
    subprocess.run([sys.executable, "-m", "footdt", "cohort", "generate", str(root / "spec.yaml"),
                    "--out", str(root / "cohort")], check=True, capture_output=True, cwd=REPO)  # fmt: skip
    return root / "cohort"


def _by_class(strikers: Path) -> dict[str, dict]:
    gen = json.loads((strikers / "generation.json").read_text())
    by: dict[str, list] = {}
    for subj in gen["subjects"]:
        for tid in subj["trials"]:
            with np.load(strikers / subj["id"] / tid / "imu.npz") as z:
                x, rate = z["recording"], float(z["recording_rate_hz"])
                truth = np.stack([z["true_ic_s"], z["true_to_s"]], axis=1)
            rec = Recording(np.arange(len(x)) / rate, rate, {"foot": x[:, :3], "tibia": x[:, 3:]})
            by.setdefault(subj["strike_class"], []).append(score(detect_events(rec), truth)[0])
    assert set(by) == {"rearfoot", "midfoot", "forefoot"}
    return {cls: pool(matches).summary() for cls, matches in by.items()}


def test_every_synthetic_stride_is_found_on_every_strike_type(strikers: Path) -> None:
    for cls, s in _by_class(strikers).items():
        assert s["n_false"] == 0 and s["n_missed"] <= 1, (cls, s)
        assert s["median_abs_error_ms"] <= 30.0, (cls, s)


@pytest.mark.xfail(
    reason="the reworked cohort generator's landing (foot deceleration ends 6-8 ms after contact, "
    "impact peaking 20-30 ms later) disagrees with RBDS001's (deceleration ends and |a| falls "
    "into foot-flat 23-29 ms after contact): median |IC error| rearfoot 9, midfoot 23, forefoot "
    "21 ms on this cohort (seed 7); docs/gait.md",
    strict=False,
)
def test_ic_within_10_ms_on_every_strike_type(strikers: Path) -> None:
    for cls, s in _by_class(strikers).items():
        assert s["n_missed"] == 0 and s["n_false"] == 0, cls
        assert s["median_abs_error_ms"] <= 10.0, (cls, s)
