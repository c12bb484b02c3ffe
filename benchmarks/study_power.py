"""How many runners would the wearables study need? A runner bootstrap of the paired test.

Input: a LOSO run directory that has been evaluated (``RUN/evaluation/subject_metrics.csv``, as
``benchmarks/study_wearables.py`` leaves it) and the study's result JSON (its ceiling says which
targets must show a significant gain: IMU + mass adds >= 0.10 R² over mass).

    .venv/bin/python benchmarks/study_power.py build/s80/study/study_tuned_lstm_attention \
        --study benchmarks/results/study_wearables_s80_tuned.json [--sizes 80,120,160,240,400] \
        [--resamples 2000] [--name study_power_s80]

For each ceiling target and cohort size n: draw n runners with replacement from the study's
runners (their per-runner RMSEs of the network, body mass and ridge on IMU + mass, all
out-of-sample), and count how often the network's mean per-runner RMSE is below body mass's with
the two-sided paired Wilcoxon p < 0.05 (the evaluation's test). That fraction estimates the power
of the test at n runners *if new runners were like these*: resampled runners are copies, not new
draws, so it is an estimate from the study's own runners, not a measurement on a larger cohort.
The same for ridge on IMU + mass, the linear learner the ceiling is measured with; and the share
of samples in which the gain is significant on every ceiling target at once (the issue's bar).
Writes benchmarks/results/<name>.json and <name>.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS, write
from study_wearables import CEILING_GAIN, per_runner_rmse

from footdt.evaluate.stats import ALPHA


def power(
    rmse: dict[str, dict[str, np.ndarray]], base: str, n: int, resamples: int, seed: int
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Per predictor and target: the share of runner bootstrap samples of size ``n`` in which
    the predictor has the lower mean per-runner RMSE than ``base`` and the paired Wilcoxon
    p < ALPHA; and per predictor the share in which that holds on every target at once (the
    same runners drawn for all targets, as in one study)."""
    from footdt.evaluate.stats import paired_wilcoxon

    rng = np.random.default_rng(seed)
    targets = list(rmse)
    preds = [p for p in next(iter(rmse.values())) if p != base]
    hits = {p: dict.fromkeys(targets, 0) for p in preds}
    every = dict.fromkeys(preds, 0)
    n_runners = len(next(iter(rmse.values()))[base])
    for _ in range(resamples):
        i = rng.integers(0, n_runners, n)
        for p in preds:
            ok = True
            for t in targets:
                a, b = rmse[t][p][i], rmse[t][base][i]
                hit = a.mean() < b.mean() and paired_wilcoxon(a, b) < ALPHA
                hits[p][t] += hit
                ok &= hit
            every[p] += ok
    return ({p: {t: h / resamples for t, h in hits[p].items()} for p in preds},
            {p: e / resamples for p, e in every.items()})  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--study", type=Path, required=True)
    ap.add_argument("--sizes", default="80,120,160,240,400")
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--gain", type=float, default=CEILING_GAIN)
    ap.add_argument("--name", default="study_power")
    a = ap.parse_args()

    frames = per_runner_rmse(a.run)
    ceiling = json.loads(a.study.read_text())["ceiling"]["targets"]
    want = [t for t, c in ceiling.items() if c["imu_gain_over_mass"] >= a.gain]
    sizes = [int(x) for x in a.sizes.split(",")]
    rmse: dict[str, dict[str, np.ndarray]] = {}
    for t in want:
        rmse[t] = {c: frames[t][c].to_numpy() for c in ("model", "body_mass", "ridge_mass")}
    by_n = {n: power(rmse, "body_mass", n, a.resamples, seed=n) for n in sizes}
    rows: dict[str, Any] = {
        t: {"imu_gain_over_mass": ceiling[t]["imu_gain_over_mass"],
            "n_runners": len(rmse[t]["model"]),
            "runners_model_better": int((rmse[t]["model"] < rmse[t]["body_mass"]).sum()),
            **{p: {str(n): by_n[n][0][p][t] for n in sizes} for p in ("model", "ridge_mass")}}
        for t in want
    }  # fmt: skip
    every = {p: {str(n): by_n[n][1][p] for n in sizes} for p in ("model", "ridge_mass")}
    res = {"run": str(a.run), "study": str(a.study), "gain": a.gain, "alpha": ALPHA,
           "resamples": a.resamples, "sizes": sizes, "targets": rows,
           "every_target": every}  # fmt: skip
    path = write(a.name, res)
    head = " | ".join(f"n={n}" for n in sizes)
    lines = [f"| target | R² gain | runners better | network: {head} | ridge IMU + mass: {head} |",
             "|---" * (3 + 2 * len(sizes)) + "|"]  # fmt: skip
    for t, r in rows.items():
        cells = [f"{r['model'][str(n)]:.2f}" for n in sizes]
        cells += [f"{r['ridge_mass'][str(n)]:.2f}" for n in sizes]
        lines.append(f"| {t} | {r['imu_gain_over_mass']:.2f} | {r['runners_model_better']} of "
                     f"{r['n_runners']} | " + " | ".join(cells) + " |")  # fmt: skip
    cells = [f"{every[p][str(n)]:.2f}" for p in ("model", "ridge_mass") for n in sizes]
    lines.append(f"| **every one of the {len(want)} at once** | | | " + " | ".join(cells) + " |")
    (RESULTS / f"{a.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written {path}")


if __name__ == "__main__":
    main()
