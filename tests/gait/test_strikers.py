"""The detector on synthetic rearfoot, midfoot and forefoot strikers, scored against the cohort
generator's true events (read through the cohort files: imu.npz and generation.json)."""

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
from tests.conftest import REPO


@pytest.fixture(scope="module")
def strikers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("strikers")
    spec = yaml.safe_load((REPO / "specs" / "cohorts" / "demo.yaml").read_text())
    spec.update(id="strikers", seed=7, n_runners=6, trials=1, strides_per_trial=12,
                rearfoot_fraction=1 / 3, forefoot_share=0.5,
                template=str(REPO / "specs" / "subjects" / "template.yaml"))  # fmt: skip
    (root / "spec.yaml").write_text(yaml.safe_dump(spec))
    subprocess.run([sys.executable, "-m", "footdt", "cohort", "generate", str(root / "spec.yaml"),
                    "--out", str(root / "cohort")], check=True, capture_output=True, cwd=REPO)  # fmt: skip
    return root / "cohort"


def test_ic_within_10_ms_on_every_strike_type(strikers: Path) -> None:
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
    for cls, matches in by.items():
        s = pool(matches).summary()
        assert s["n_missed"] == 0 and s["n_false"] == 0, cls
        assert s["median_abs_error_ms"] <= 10.0, (cls, s)
