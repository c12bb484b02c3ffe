"""The information ceiling of a solved synthetic cohort (``footdt.learn.ceiling``): per target, the
leave-one-subject-out R² of ridge on the true gait state, the IMU features + stride timing, body
mass, and IMU + body mass, for the labels (MPa) and for the labels per body mass.

Usage (a cohort directory made by `footdt cohort generate` and the label store its trials were
solved into, e.g. the demo's):

    .venv/bin/python benchmarks/bench_ceiling.py build/demo/cohort build/demo/labels.db \
        [--experiment specs/experiments/demo.yaml] [--name ceiling]

Writes benchmarks/results/<name>.json and prints a table: per target R² of each input set and the
gain of IMU + mass over mass alone (the most any learner of these inputs could add to the
body-mass baseline, as far as a linear read-out shows it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cohort", type=Path)
    ap.add_argument("store", type=Path)
    ap.add_argument("--experiment", type=Path, default=Path("specs/experiments/demo.yaml"))
    ap.add_argument("--name", default="ceiling")
    a = ap.parse_args()

    from footdt.learn.ceiling import information_ceiling, load_generation
    from footdt.learn.dataset import load_dataset
    from footdt.spec.loader import load_spec

    spec = load_spec(a.experiment).spec
    ds = load_dataset(spec, a.store, a.cohort)
    res = information_ceiling(ds, load_generation(a.cohort))
    res.update(cohort=str(a.cohort), store=str(a.store), experiment=str(a.experiment))
    path = write(a.name, res)
    sets = ("state", "imu", "body_mass", "imu_mass", "state_mass")
    print(f"{'target':38s} " + " ".join(f"{s:>10s}" for s in sets) + "   gain   | per kg: "
          + " ".join(f"{s:>9s}" for s in ("state", "imu")))  # fmt: skip
    for t, row in res["targets"].items():
        lab, pk = row["labels"], row["per_kg"]
        print(f"{t:38s} " + " ".join(f"{lab[s]:10.2f}" for s in sets)
              + f" {row['imu_gain_over_mass']:+6.2f}   | " + " ".join(f"{pk[s]:9.2f}" for s in ("state", "imu")))  # fmt: skip
    gains = [row["imu_gain_over_mass"] for row in res["targets"].values()]
    print(
        f"targets where IMU + mass adds >= 0.10 R² over mass: {sum(g >= 0.1 for g in gains)} of "
        f"{len(gains)}; written {path}"
    )


if __name__ == "__main__":
    main()
