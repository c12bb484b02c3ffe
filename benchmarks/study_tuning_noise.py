"""Is a tuned run's best trial better, or luckier? Re-score it with other seeds.

Input: a run tuned per block (``validation.tuning_blocks``; ``RUN/tuning/blocks.json`` and
``block_NN.json``), its experiment, store and cohort, e.g. the wearables study's tuned run:

    .venv/bin/python benchmarks/study_tuning_noise.py build/s80/study/study_tuned_lstm_attention \
        --experiment specs/experiments/study_tuned.yaml --store build/s80/labels.db \
        --cohort build/s80/cohort_solved [--seeds 1,2] [--name study_tuning_noise_s80]

For each block: its best trial and its median trial (by the tuning's value: mean inner validation
MSE of standardised targets, network seed = the experiment's first seed) are scored again by the
same objective on the same inner splits and runners, with other network seeds. If the best
trial's lead over the median trial does not survive a change of seed, the tuning was choosing
seed noise, and more trials would not help. Only the block's own tuning runners are touched.
Writes benchmarks/results/<name>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--experiment", type=Path, required=True)
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--cohort", type=Path, required=True)
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--name", default="study_tuning_noise")
    a = ap.parse_args()

    import optuna

    from footdt.demo.learn import quiet_tensorflow

    quiet_tensorflow()
    from footdt.learn.dataset import load_dataset
    from footdt.learn.runtime import setup_tensorflow
    from footdt.learn.tune import make_objective
    from footdt.spec.loader import load_spec

    setup_tensorflow(deterministic=True)
    spec = load_spec(a.experiment).spec
    ds = load_dataset(spec, a.store, a.cohort)
    seeds = [int(x) for x in a.seeds.split(",")]
    rows: list[dict[str, Any]] = []
    for b in json.loads((a.run / "tuning" / "blocks.json").read_text()):
        trials = json.loads((a.run / "tuning" / f"block_{b['block']:02d}.json").read_text())
        done = sorted((t for t in trials if t["state"] == "COMPLETE"), key=lambda t: t["value"])
        picks = {"best": done[0], "median": done[len(done) // 2]}
        splits = [(list(tr), list(va)) for tr, va in b["inner_splits"]]
        row: dict[str, Any] = {"block": b["block"], "n_complete": len(done)}
        for name, t in picks.items():
            row[name] = {
                "trial": t["number"],
                "params": t["params"],
                str(spec.validation.seeds[0]): t["value"],
            }
            for seed in seeds:
                val = spec.validation.model_copy(update={"seeds": [seed]})
                objective = make_objective(spec.model_copy(update={"validation": val}), ds, splits)
                row[name][str(seed)] = objective(optuna.trial.FixedTrial(t["params"]))
        print(json.dumps(row), flush=True)
        rows.append(row)
    first = str(spec.validation.seeds[0])

    def mean(name: str, which: list[str]) -> float:
        return float(np.mean([r[name][s] for r in rows for s in which]))

    other = [str(s) for s in seeds]
    summary = {
        "best_with_tuning_seed": mean("best", [first]),
        "median_with_tuning_seed": mean("median", [first]),
        "best_with_other_seeds": mean("best", other),
        "median_with_other_seeds": mean("median", other),
    }
    print(json.dumps(summary))
    path = write(a.name, {"run": str(a.run), "experiment": str(a.experiment), "seeds": seeds,
                          "blocks": rows, "summary": summary})  # fmt: skip
    print(f"written {path}")


if __name__ == "__main__":
    main()
