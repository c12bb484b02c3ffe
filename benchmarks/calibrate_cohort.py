"""Synthetic gait vs real running: stride-to-stride CVs, the 2.5 -> 3.5 m/s change, published ranges.

    .venv/bin/python benchmarks/calibrate_cohort.py [--runners 30] [--seed 2025] [--data ../shared/data]

Generates a cohort (``--runners`` x 1 trial, a minimal template: the generator only copies it)
and summarises its ``generation.json`` (``footdt.cohort.calibrate.cohort_summary``); runs every
runner of a 12-runner cohort at 2.5 and 3.5 m/s (``speed_response``); reads RBDS001 at 2.5 m/s
(text files) and 3.5 m/s (C3D, ezc3d) and Alcantara et al. 2022's level trials when ``--data``
exists; the correlation of PTA (``pta_ref_g``: the 1 kHz reference tibial accelerometer) with
loading rate on each of ``--pta-seeds``' 30-runner cohorts and on their runners pooled (what
tests/cohort/test_calibration.py tests). Writes ``benchmarks/results/cohort_calibration.json``
and prints the table that docs/cohort.md shows.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPO = Path(__file__).resolve().parents[1]

from _harness import write  # noqa: E402
from bench_cohort import TEMPLATE  # noqa: E402  (the same small template subject spec)

ROWS = (  # (label, key in the step statistics, scale, format)
    ("contact time (s)", "contact_s", 1.0, "{:.3f}"),
    ("step time (s)", "step_s", 1.0, "{:.3f}"),
    ("impact peak (BW)", "impact_peak_bw", 1.0, "{:.2f}"),
    ("loading rate (BW/s)", "loading_rate_bw_s", 1.0, "{:.0f}"),
    ("active peak (BW)", "active_peak_bw", 1.0, "{:.2f}"),
    ("peak tibial |a| (g)", "peak_tibia_g", 1.0, "{:.1f}"),
    ("PTA, 1 kHz reference (g)", "pta_ref_g", 1.0, "{:.1f}"),
)


def _fmt(v: object, f: str) -> str:
    return "-" if v is None or v != v else f.format(v)


def table(res: dict) -> str:
    """Markdown: CVs and the 2.5 -> 3.5 m/s change, real vs synthetic."""
    rb, alc, sp = res.get("rbds001") or {}, res.get("alcantara2022") or {}, res["speed_response"]
    lines = ["| quantity | stride CV: RBDS001 2.5 / 3.5 | Alcantara 2.5 / 3.33 / 4.17 | synthetic 2.5 / 3.5 (RFS) | change 2.5 -> 3.5: RBDS001 | synthetic |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for label, key, _, _ in ROWS:
        cvr = " / ".join(_fmt((rb.get(v) or {}).get(f"cv_{key}"), "{:.1%}") for v in ("2.5", "3.5"))
        cva = " / ".join(
            _fmt((alc.get(v) or {}).get(f"cv_{key}"), "{:.1%}") for v in ("2.5", "3.33", "4.17")
        )
        cvs = " / ".join(
            _fmt(sp[f"{v}_rearfoot"].get(f"cv_{key}"), "{:.1%}") for v in ("2.5", "3.5")
        )
        chr_ = _fmt((rb.get("change") or {}).get(key), "{:+.0%}")
        chs = _fmt(sp["change"].get(key), "{:+.0%}")
        lines.append(f"| {label} | {cvr} | {cva} | {cvs} | {chr_} | {chs} |")
    lines.append("")
    lines.append(
        "| quantity | RBDS001 2.5 / 3.5 | Alcantara 2.5 / 3.33 / 4.17 | synthetic rearfoot 2.5 / 3.5 (medians) |"
    )
    lines.append("|---|---|---|---|")
    for label, key, _, f in ROWS:
        r = " / ".join(_fmt((rb.get(v) or {}).get(key), f) for v in ("2.5", "3.5"))
        a = " / ".join(_fmt((alc.get(v) or {}).get(key), f) for v in ("2.5", "3.33", "4.17"))
        s = " / ".join(_fmt(sp[f"{v}_rearfoot"].get(key), f) for v in ("2.5", "3.5"))
        lines.append(f"| {label} | {r} | {a} | {s} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--runners", type=int, default=30)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--pta-seeds", default="2025,7,11,12", help="cohorts pooled for the PTA r")
    args = ap.parse_args(argv)

    from footdt.cohort.calibrate import (
        PUBLISHED,
        alcantara_steps,
        cohort_summary,
        pta_loading_rate,
        rbds_steps,
        speed_response,
    )
    from footdt.cohort.generate import generate
    from footdt.cohort.spec import CohortSpec

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "template.yaml").write_text(TEMPLATE)
        spec = CohortSpec(seed=args.seed, n_runners=args.runners, trials=1, template=root / "template.yaml")  # fmt: skip
        generate(spec, root / "cohort")
        gen = json.loads((root / "cohort" / "generation.json").read_text())
        pooled, per_seed = [], {}
        for seed in (int(x) for x in args.pta_seeds.split(",")):
            if seed == args.seed and args.runners == 30:
                subjects = gen["subjects"]
            else:
                s30 = CohortSpec(seed=seed, n_runners=30, trials=1, template=root / "template.yaml")  # fmt: skip
                generate(s30, root / f"pta{seed}")
                subjects = json.loads((root / f"pta{seed}" / "generation.json").read_text())["subjects"]  # fmt: skip
            per_seed[str(seed)] = pta_loading_rate(subjects)
            pooled += subjects
    res: dict = {
        "benchmark": "cohort_calibration",
        "cohort": {"runners": args.runners, "trials": 1, "seed": args.seed},
        "published": {k: {"low": lo, "high": hi, "source": src} for k, (lo, hi, src) in PUBLISHED.items()},
        "synthetic": cohort_summary(gen),
        "speed_response": speed_response(CohortSpec(seed=args.seed, n_runners=12)),
        "pta_loading_rate": {"per_seed": per_seed, "pooled": pta_loading_rate(pooled)},
    }  # fmt: skip
    rbds_dir, alc_dir = args.data / "rbds_running_001", args.data / "alcantara2022_sacral_acc_grf"
    if (rbds_dir / "RBDS001runT35.c3d").is_file():
        try:
            res["rbds001"] = rbds_steps(rbds_dir)
        except ImportError as exc:
            res["rbds001"] = {"error": f"{exc} (pip install ezc3d)"}
    if alc_dir.is_dir():
        res["alcantara2022"] = alcantara_steps(alc_dir)
    res["table_markdown"] = table(res)
    path = write("cohort_calibration", res)
    print(res["table_markdown"])
    print(json.dumps(res["synthetic"], indent=1))
    print(json.dumps(res["pta_loading_rate"], indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
