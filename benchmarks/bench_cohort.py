"""Synthetic cohort: generation time for 50 runners x 3 trials, and the cohort's signal statistics.

    .venv/bin/python benchmarks/bench_cohort.py
    .venv/bin/python benchmarks/bench_cohort.py --runners 50 --trials 3 --seed 2025 \
        --out benchmarks/results/cohort.json

Generates the cohort in a fresh process (``_harness.run_isolated``: wall time and peak memory)
into a temporary directory with a minimal template subject spec (the generator only copies and
validates the template, so its content does not change the timing), then summarises the
cohort's ``generation.json``: stance time, vertical GRF peaks, loading rate, peak |a| per sensor,
Achilles force, detection (strides found, IC error) and the phase loads, by strike group.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPO = Path(__file__).resolve().parents[1]

from _harness import RESULTS, run_isolated, write  # noqa: E402

TEMPLATE = """\
kind: subject
id: template
geometry: {type: foot_template, foot_length: 265, foot_width: 100, arch_height: 40}
materials: {bone: {E: 7300, nu: 0.3}, soft_tissue: {E: 1.15, nu: 0.45}}
sections: [{part: soft_tissue, material: soft_tissue}, {part: calcaneus, material: bone}]
phases: [{name: initial_contact}, {name: mid_stance}, {name: push_off}]
"""


def _q(values: list[float]) -> dict[str, float]:
    import numpy as np

    v = np.asarray([x for x in values if x is not None], float)
    if not len(v):
        return {}
    p = np.percentile(v, [0, 5, 50, 95, 100])
    return {"n": len(v), "min": p[0], "p5": p[1], "median": p[2], "p95": p[3], "max": p[4]}


def summarise(gen: dict) -> dict:
    """Statistics of a ``generation.json`` by strike group (units in the key names)."""
    out: dict = {}
    for group in ("rearfoot", "non_rearfoot", "all"):
        trials = [t for s in gen["subjects"] if group in ("all", s["group"]) for t in s["trials"].values()]  # fmt: skip
        out[group] = {
            "n_trials": len(trials),
            "stance_s": _q([t["stance_s"] for t in trials]),
            "grf_active_peak_bw": _q([t["grf_peak_bw"] for t in trials]),
            "grf_impact_peak_bw": _q([t["impact_peak_bw"] for t in trials]),
            "loading_rate_bw_s": _q([t["loading_rate_bw_s"] for t in trials]),
            "peak_foot_g": _q([t["peak_g"]["foot"] for t in trials]),
            "peak_tibia_g": _q([t["peak_g"]["tibia"] for t in trials]),
            "achilles_peak_bw": _q([t["achilles_peak_bw"] for t in trials]),
            **{
                f"achilles_{ph}_bw": _q([t["achilles_bw"][ph] for t in trials])
                for ph in ("initial_contact", "mid_stance", "push_off")
            },
            "strides_true": sum(t["n_true_strides"] for t in trials),
            "strides_detected": sum(t["n_detected"] for t in trials),
            "strides_within_20ms": sum(t["n_matched_20ms"] for t in trials),
            "trials_with_issues": sum(1 for t in trials if t["issues"]),
            "rearfoot_trials_with_impact_peak": sum(
                1 for t in trials if t["impact_peak_bw"] is not None
            ),
        }
    return out


def compare(cohort: Path, data: Path, plot: Path) -> dict:
    """Synthetic vs RBDS001 / Alcantara 2022 / Dorn 2012 statistics, and the overlay figure."""
    from footdt.cohort.realism import (
        alcantara_stats,
        dorn_curves,
        overlay_figure,
        rbds_stats,
        synthetic_stats,
    )

    syn = synthetic_stats(cohort)
    rbds = rbds_stats(data / "rbds_running_001") if (data / "rbds_running_001").is_dir() else None
    alc_dir = data / "alcantara2022_sacral_acc_grf"
    alc = alcantara_stats(alc_dir) if alc_dir.is_dir() else None
    dorn = dorn_curves(data / "dorn2012_running_grf") if (data / "dorn2012_running_grf").is_dir() else None  # fmt: skip
    overlay_figure(syn, rbds, alc, dorn, plot)

    def scalars(d: dict | None) -> dict | None:
        if d is None:
            return None
        return {k: scalars(v) if isinstance(v, dict) and k in ("rearfoot", "non_rearfoot") else v
                for k, v in d.items() if not (isinstance(v, list) and len(v) > 10)
                and k not in ("stride_profile_g", "stride_profile_lp15_g", "grf_curve_bw")}  # fmt: skip

    return {"synthetic": scalars(syn), "rbds001": scalars(rbds), "alcantara2022_level": scalars(alc),
            "figure": str(plot.relative_to(REPO)) if plot.is_relative_to(REPO) else str(plot)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--runners", type=int, default=50)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--out", type=Path, default=RESULTS / "cohort.json")
    ap.add_argument(
        "--keep", type=Path, default=None, help="Generate into this directory and keep it."
    )
    ap.add_argument(
        "--data",
        type=Path,
        default=REPO.parent / "shared" / "data",
        help="Real data for the comparison (RBDS, Alcantara, Dorn); skipped if absent.",
    )
    ap.add_argument(
        "--plot",
        type=Path,
        default=REPO / "docs" / "img" / "cohort_overlay.png",
        help="Overlay figure, synthetic vs real (written when --data exists).",
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "template.yaml").write_text(TEMPLATE)
        spec = root / "cohort.yaml"
        spec.write_text(f"kind: cohort\nid: bench\nseed: {args.seed}\nn_runners: {args.runners}\n"
                        f"trials: {args.trials}\ntemplate: template.yaml\n")  # fmt: skip
        cohort = args.keep or root / "cohort"
        code = (
            "import time\nt0 = time.perf_counter()\n"
            "from footdt.cohort.generate import generate\nfrom footdt.cohort.spec import load_cohort_spec\n"
            f"generate(load_cohort_spec({str(spec)!r}), {str(cohort)!r}, overwrite=True)\n"
            "RESULT = {'wall_s': round(time.perf_counter() - t0, 2)}"
        )
        res = run_isolated(code)
        if "error" in res:
            print(f"error: {res['error']}", file=sys.stderr)
            return 1
        gen = json.loads((Path(cohort) / "generation.json").read_text())
        comparison = compare(Path(cohort), args.data, args.plot) if args.data.is_dir() else None
    n = args.runners * args.trials
    payload = {
        "benchmark": "cohort",
        "cohort": {"runners": args.runners, "trials": args.trials, "seed": args.seed,
                   "strides_per_trial": gen["cohort_spec"]["strides_per_trial"]},
        "wall_s": res["wall_s"], "per_trial_s": round(res["wall_s"] / n, 3),
        "peak_rss_mb": res["peak_rss_mb"], "achilles_method": gen["achilles_method"],
        "statistics": summarise(gen),
        "comparison_with_real_data": comparison,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    path = write(args.out.stem, payload) if args.out.parent == RESULTS else args.out
    if args.out.parent != RESULTS:
        args.out.write_text(json.dumps(payload, indent=1) + "\n")
    st = payload["statistics"]["all"]
    print(f"{args.runners} runners x {args.trials} trials in {res['wall_s']} s "
          f"({payload['per_trial_s']} s/trial, {res['peak_rss_mb']} MB); "
          f"strides found {st['strides_detected']}/{st['strides_true']}; wrote {path}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
