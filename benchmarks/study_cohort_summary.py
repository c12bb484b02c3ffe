"""One table over the study's runs: per target the RMSE of every model and baseline, and who wins.

    .venv/bin/python benchmarks/study_cohort_summary.py
    .venv/bin/python benchmarks/study_cohort_summary.py --results benchmarks/results/study30 \
        --runs study30 study30_lstm_bm study30_cnn1d

Reads ``RESULTS/<run>/summary.json`` (written by ``footdt evaluate``, copied by
``study_cohort.py``) and writes ``RESULTS/summary.json`` and ``RESULTS/summary.md``: per target
the mean per-subject RMSE (MPa) of each run's model and of the three baselines (training mean,
body-mass-scaled mean, ridge on IMU features; fitted per fold, identical in every run), the
pooled r and the mean per-subject MAPE (%) of the best model (lowest RMSE of the runs) and of
the body-mass baseline, the best predictor, and whether the best model beats the body-mass baseline.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BASELINES = ("mean", "body_mass", "ridge")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--results", type=Path, default=REPO / "benchmarks/results/study30")
    ap.add_argument("--runs", nargs="+", default=["study30", "study30_lstm_bm", "study30_cnn1d"])
    args = ap.parse_args(argv)
    runs = {r: json.loads((args.results / r / "summary.json").read_text()) for r in args.runs
            if (args.results / r / "summary.json").is_file()}  # fmt: skip
    first = next(iter(runs.values()))
    rows: list[dict[str, Any]] = []
    for k, entry in enumerate(first["targets"]):
        t = entry["target"]
        row: dict[str, Any] = {"target": t}
        for name, s in runs.items():
            e = s["targets"][k]
            assert e["target"] == t
            row[name] = e["model"]["rmse_subject_mean"]
        for b in BASELINES:
            row[b] = entry[b]["rmse_subject_mean"]
        models = {n: row[n] for n in runs}
        row["best_model"] = min(models, key=lambda n: models[n])
        best = runs[row["best_model"]]["targets"][k]["model"]
        row["r_best_model"] = best["r"]
        row["r_body_mass"] = entry["body_mass"]["r"]
        row["mape_best_model"] = best["mape_subject_mean"]
        row["mape_body_mass"] = entry["body_mass"]["mape_subject_mean"]
        allp = {**models, **{b: row[b] for b in BASELINES}}
        row["best"] = min(allp, key=lambda n: allp[n])
        row["best_model_beats_body_mass"] = models[row["best_model"]] < row["body_mass"]
        rows.append(row)
    out = {
        "runs": {n: {"architecture": s["architecture"], "n_subjects": s["n_subjects"],
                     "n_trials": s["n_trials"], "model_beats": s["model_beats"]}
                 for n, s in runs.items()},
        "best_model_beats_body_mass": sum(r["best_model_beats_body_mass"] for r in rows),
        "n_targets": len(rows),
        "wins": {n: sum(r["best"] == n for r in rows) for n in [*runs, *BASELINES]},
        "targets": rows,
    }  # fmt: skip
    (args.results / "summary.json").write_text(json.dumps(out, indent=1) + "\n")
    head = ["target", *runs, *BASELINES, "best model", "r best model", "r body mass",
            "MAPE best model %", "MAPE body mass %", "best"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["target"], *(f"{r[n]:.3f}" for n in [*runs, *BASELINES]),
                 r["best_model"], f"{r['r_best_model']:.2f}", f"{r['r_body_mass']:.2f}",
                 f"{r['mape_best_model']:.1f}",
                 f"{r['mape_body_mass']:.1f}", r["best"]]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    (args.results / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"best model beats body mass on {out['best_model_beats_body_mass']} of {len(rows)}; "
          f"wins {out['wins']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
