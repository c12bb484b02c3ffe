"""The synthetic landing (issue 14): striker IC/TO errors vs the PTA-loading-rate calibration.

    .venv/bin/python benchmarks/study_landing.py             # about 3-5 min on 2 busy cores
    .venv/bin/python benchmarks/study_landing.py --out benchmarks/results/landing_study.json

For each ``footdt.cohort.imu.Landing`` (forward arrest ``raised_cosine`` / ``held`` x felt impact
``net`` / ``relative``; ``raised_cosine``/``net`` is ``imu.LEGACY_LANDING``, the default before
issue 14; ``held``/``relative`` the default since):

1. **Strikers**: the detector (shipped settings, foot+tibia, 100 Hz) on cohorts of rearfoot,
   midfoot and forefoot strikers (a third each, ``specs/cohorts/demo.yaml`` otherwise), scored
   against the generator's true events: median |IC error| and |TO error| (ms), missed and false,
   per strike type, pooled over the *development* seeds (7, 21, 3; 3 runners x 10 strides: the
   seeds the landing was looked at on) and, separately, over the *held-out* seeds (101, 202,
   303, 404, 505; 6 runners x 10 strides), never used to choose the landing (the detector's
   lead-in rule was changed after their one missed first IC was seen), and for the default
   landing the *fresh* seeds (606, 707, 808, 909, 1010), run first after that change.
2. **Calibration**: on 30-runner cohorts (seeds 2025 = the calibration test's, 7, 11, 12; 1
   trial x 10 strides), the correlation of peak tibial acceleration with loading rate between
   rearfoot runners (runner means) and within them (stride by stride, median), the published
   ranges 0.35-0.7 and 0.5-0.9 (``footdt.cohort.calibrate.PUBLISHED``), for PTA as the
   resultant |a| (what ``cohort_summary`` uses) and as the peak along the tibia sensor's axis;
   and the median rearfoot PTA (g). Once with PTA from the cohort's own sensor (100 Hz, 40 Hz
   bandwidth), once from a reference accelerometer at the same place recording at 1 kHz with a
   400 Hz bandwidth, as the published PTA studies do.

The cohorts are drawn exactly as ``footdt cohort generate`` draws them (``draw_runner``,
``draw_trial``, ``trial_strides``, ``simulate`` with the runner's hidden factors) without the
FE-model files, so seed 7 reproduces ``tests/gait/test_strikers.py``'s numbers.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
DEV_SEEDS = (7, 21, 3)
HELD_OUT_SEEDS = (101, 202, 303, 404, 505)
#: Seeds first run after the detector's lead-in rule (``events.LEAD_IN_S``) was changed on seeing
#: the held-out seeds' misses: unseen by every choice so far (default landing only).
FRESH_SEEDS = (606, 707, 808, 909, 1010)
CALIBRATION_SEEDS = (2025, 7, 11, 12)
VARIANTS = (("raised_cosine", "net"), ("held", "net"), ("raised_cosine", "relative"), ("held", "relative"))  # fmt: skip


def _sims(spec: Any, landing: Any, sensor: Any = None) -> Iterator[tuple[Any, list[Any], Any, Any]]:
    from footdt.cohort.generate import stance_params
    from footdt.cohort.imu import SensorModel, simulate
    from footdt.cohort.runners import draw_runner, draw_trial, strike_classes, trial_strides

    classes = strike_classes(spec)
    if sensor is None:
        sensor = SensorModel(**spec.sensors.model_dump(exclude={"misplacement_deg", "misplacement_mm"}))  # fmt: skip
    for i in range(spec.n_runners):
        runner = draw_runner(spec, i, classes[i])
        for k in range(spec.trials):
            trial = draw_trial(spec, runner, k)
            rng = np.random.default_rng([*trial.seed, 7])
            stances = [stance_params(runner, st) for st in trial_strides(runner, trial, spec.strides_per_trial + 2)]  # fmt: skip
            h = runner.hidden
            sim = simulate(stances, runner.mounts, sensor, rng, tibia_roll_deg=h["tibia_roll_deg"],
                           tissue=(h["tissue_coupling_hz"], h["tissue_damping"]),
                           coupling=(h["impact_coupling_foot"], h["impact_coupling_tibia"]),
                           landing=landing)  # fmt: skip
            yield runner, stances, sim, sensor


def strikers(seeds: tuple[int, ...], n_runners: int, landing: Any) -> dict[str, Any]:
    from footdt.cohort.spec import CohortSpec
    from footdt.gait.events import detect_events
    from footdt.gait.recording import Recording
    from footdt.gait.validate import pool, score

    by: dict[str, list[Any]] = {}
    for seed in seeds:
        d = yaml.safe_load((REPO / "specs" / "cohorts" / "demo.yaml").read_text())
        d.update(id="strikers", seed=seed, n_runners=n_runners, trials=1, strides_per_trial=10,
                 rearfoot_fraction=1 / 3, forefoot_share=0.5, template=None)  # fmt: skip
        for runner, _, sim, sensor in _sims(CohortSpec(**d), landing):
            x = sim.data
            rec = Recording(sim.time, sensor.rate_hz, {"foot": x[:, :3], "tibia": x[:, 3:]})
            truth = np.stack([sim.ic_s, sim.to_s], axis=1)
            by.setdefault(runner.strike_class, []).append(score(detect_events(rec), truth))
    out = {}
    for cls, matches in sorted(by.items()):
        ic = pool([m[0] for m in matches]).summary()
        to = pool([m[1] for m in matches]).summary()
        out[cls] = {"ic_median_abs_ms": ic["median_abs_error_ms"], "ic_median_ms": ic["median_error_ms"],
                    "ic_p95_abs_ms": ic["p95_abs_error_ms"], "to_median_abs_ms": to["median_abs_error_ms"],
                    "to_median_ms": to["median_error_ms"], "n": ic["n_reference"],
                    "missed": ic["n_missed"], "false": ic["n_false"]}  # fmt: skip
    return out


def calibration(seed: int, landing: Any, reference: bool = False) -> dict[str, Any]:
    """PTA-loading-rate statistics of rearfoot runners; ``reference``: PTA from a high-rate
    wide-band accelerometer at the tibia sensor's place (1 kHz, 400 Hz bandwidth, as the
    published PTA studies record it) instead of the cohort's 100 Hz, 40 Hz sensor."""
    from footdt.cohort.generate import grf_stats, stride_peaks_g
    from footdt.cohort.imu import SensorModel
    from footdt.cohort.spec import CohortSpec
    from footdt.domain import REARFOOT_STRIKE, TIBIA_SENSOR
    from footdt.gait.recording import G

    spec = CohortSpec(seed=seed, n_runners=30, trials=1, strides_per_trial=10)
    sensor = SensorModel(rate_hz=1000.0, bandwidth_hz=400.0) if reference else None
    means, within_res, within_ax = [], [], []
    for runner, stances, sim, _ in _sims(spec, landing, sensor):
        if runner.strike_class != REARFOOT_STRIKE:
            continue
        lr = np.array([grf_stats(p)["loading_rate_bw_s"] for p in stances[1:-1]])
        res = stride_peaks_g(sim.time, sim.data, sim.ic_s)[TIBIA_SENSOR]
        ax = np.array([np.max(sim.data[(sim.time >= c - 0.02) & (sim.time <= c + 0.15), 5]) / G for c in sim.ic_s])  # fmt: skip
        within_res.append(np.corrcoef(res, lr)[0, 1])
        within_ax.append(np.corrcoef(ax, lr)[0, 1])
        means.append((res.mean(), ax.mean(), lr.mean(), res.std() / res.mean()))
    m = np.array(means)
    return {"between_r_resultant": float(np.corrcoef(m[:, 0], m[:, 2])[0, 1]),
            "between_r_axial": float(np.corrcoef(m[:, 1], m[:, 2])[0, 1]),
            "within_r_resultant": float(np.nanmedian(within_res)),
            "within_r_axial": float(np.nanmedian(within_ax)),
            "pta_resultant_g": float(np.median(m[:, 0])), "pta_axial_g": float(np.median(m[:, 1])),
            "pta_stride_cv_resultant": float(np.median(m[:, 3])), "n_rearfoot": len(m)}  # fmt: skip


def main() -> None:
    from footdt.cohort.imu import Landing

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "landing_study.json"
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    result: dict[str, Any] = {"dev_seeds": DEV_SEEDS, "held_out_seeds": HELD_OUT_SEEDS,
                              "fresh_seeds": FRESH_SEEDS, "calibration_seeds": CALIBRATION_SEEDS,
                              "variants": {}}  # fmt: skip
    for fwd, felt in VARIANTS:
        landing = Landing(fwd, felt)
        name = f"{fwd}/{felt}"
        v = {"dev": strikers(DEV_SEEDS, 3, landing), "held_out": strikers(HELD_OUT_SEEDS, 6, landing),
             "calibration": {s: calibration(s, landing) for s in CALIBRATION_SEEDS},
             "calibration_reference_1khz": {s: calibration(s, landing, True) for s in CALIBRATION_SEEDS}}  # fmt: skip
        if landing == Landing():
            v["fresh"] = strikers(FRESH_SEEDS, 6, landing)
        result["variants"][name] = v
        print(name)
        for part in [k for k in ("dev", "held_out", "fresh") if k in v]:
            print(f"  strikers {part}: " + "; ".join(
                f"{c} IC {s['ic_median_abs_ms']:.1f} TO {s['to_median_abs_ms']:.1f} ms "
                f"({s['missed']} missed, {s['false']} false of {s['n']})" for c, s in v[part].items()))  # fmt: skip
        for s, c in [(f"{k} (100 Hz)", x) for k, x in v["calibration"].items()] + [(f"{k} (1 kHz reference)", x) for k, x in v["calibration_reference_1khz"].items()]:  # fmt: skip
            print(f"  calibration seed {s}: r between {c['between_r_resultant']:.2f} (axial "
                  f"{c['between_r_axial']:.2f}), within {c['within_r_resultant']:.2f} (axial "
                  f"{c['within_r_axial']:.2f}), PTA {c['pta_resultant_g']:.1f} g (axial {c['pta_axial_g']:.1f})")  # fmt: skip
    result["seconds"] = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(f"wrote {args.out} ({result['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
