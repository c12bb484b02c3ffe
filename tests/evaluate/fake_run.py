"""A hand-made run directory (no training) whose evaluation is known in advance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd


def make_run(
    path: Path, *, domain_adaptation: str = "transductive", status: str = "complete"
) -> Path:
    """8 subjects x 2 trials, targets A and B. On A the model is close and body mass far off;
    on B it is the other way round. So the model beats body mass on exactly one target."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(8):
        group = "rearfoot" if i < 5 else "non_rearfoot"
        for trial in ("T1", "T2"):
            for target, (good, bad) in (("mid_stance.metatarsal_2.mean", ("model", "body_mass")),
                                        ("push_off.metatarsal_2.peak", ("body_mass", "model"))):  # fmt: skip
                truth = 10 + i + rng.normal()
                for pr, err in ((good, 0.1), (bad, 3.0), ("mean", 2.0), ("ridge", 1.0)):
                    rows.append({"subject": f"S{i + 1}", "trial": trial, "group": group,
                                 "body_mass_kg": 70.0, "fold": i, "predictor": pr, "target": target,
                                 "true_mpa": truth, "pred_mpa": truth + err * rng.choice([-1, 1])})  # fmt: skip
    path.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(path / "predictions.csv", index=False)
    perm = pd.DataFrame(rows)
    perm = perm[perm.predictor == "model"].assign(permuted="foot", repeat=0)
    perm["pred_mpa"] = perm["true_mpa"] + 5.0
    perm.to_csv(path / "permutation.csv", index=False)
    (path / "folds.json").write_text("[]")
    run = {"format": "footdt-run", "version": 1, "status": status, "experiment": "fake",
           "architecture": "lstm", "domain_adaptation": domain_adaptation, "tuned": False,
           "seeds": [0], "label_backend": "synthetic", "peak_stat": "p99",
           "channels": ["foot_az"], "static": [], "n_subjects": 8, "partial": False,
           "versions": {"footdt": "0"}}  # fmt: skip
    (path / "run.json").write_text(json.dumps(run))
    return path
