"""Where do the wearables help? Leave-one-subject-out of the networks on a solved synthetic cohort
beside the baselines, a swapped-IMU control and the information ceiling.

Input: a directory with a synthetic cohort and its labels, as `footdt demo` leaves it
(``DIR/cohort_solved`` or ``DIR/cohort``, and ``DIR/labels.db``), e.g. after
``footdt demo --runners 50 --size 5 --out build/study50``.

    .venv/bin/python benchmarks/study_wearables.py build/study50 \
        [--experiment specs/experiments/demo.yaml] [--archs lstm,cnn1d] [--no-control] \
        [--name study_wearables] [--seeds 0,1,2,3,4] [--control-seeds 0,1] [--workers 2]

For each architecture: the experiment with that architecture (everything else as in the spec:
targets, inputs, per-kg targets, seeds, early stopping, a search space if it has one) trained by
nested LOSO into ``DIR/study/<arch>`` (``DIR/study/<experiment id>_<arch>`` for another
experiment than the demo's) and evaluated (``footdt.evaluate.run.evaluate_run``): per target RMSE, r and
MAPE of the network and every baseline, and the paired Wilcoxon p of the per-subject RMSEs against
body mass and against ridge on IMU + body mass. The control (``footdt.learn.controls``) trains the
first architecture again on the data set whose runners carry another runner's wearable data. The
ceiling (``footdt.learn.ceiling``) says per target how much IMU + mass can add over mass.
Writes benchmarks/results/<name>.json and <name>.md (the table docs/learning.md shows). The tuned
run: ``--experiment specs/experiments/study_tuned.yaml --archs lstm_attention --no-control``
(Optuna per block of held-out runners; the blocks' best hyperparameters go into the JSON).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS, write


def _loso(spec: Any, ds: Any, out: Path, workers: int = 0) -> dict[str, Any]:
    import shutil

    from footdt.evaluate.run import evaluate_run
    from footdt.learn.cv import RunOptions, run_loso

    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    run_loso(spec, ds, out, options=RunOptions(workers=workers),
             on_event=lambda k, i: k == "fold_done" and print(f"  {i['held_out']}: {i['seconds']:.0f} s", flush=True))  # fmt: skip
    summary = evaluate_run(out)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    return summary


def _tuning(run: Path) -> dict[str, Any]:
    """A tuned run's studies per block (``validation.tuning_blocks``): trials, best values and
    hyperparameters, which runners each tuned on and which it was for."""
    import json

    path = run / "tuning" / "blocks.json"
    if not path.is_file():
        return {}
    keep = ("block", "block_subjects", "best_params", "best_value", "n_complete", "n_pruned",
            "n_failed")  # fmt: skip
    blocks = [{k: b[k] for k in keep} | {"n_tuned_on": len(b["subjects_seen"])}
              for b in json.loads(path.read_text())]  # fmt: skip
    return {"tuning_blocks": blocks}


def per_runner_rmse(run: Path) -> dict[str, Any]:
    """Per target: a frame of per-runner RMSE (rows: runners, columns: predictors), from an
    evaluated run's ``evaluation/subject_metrics.csv`` (what the paired tests compare)."""
    import pandas as pd

    ps = pd.read_csv(run / "evaluation" / "subject_metrics.csv", dtype={"subject": str})
    return {str(t): d.pivot_table(index="subject", columns="predictor", values="rmse")
            for t, d in ps.groupby("target")}  # fmt: skip


def _readout_p(run: Path) -> dict[str, float]:
    """Per target: the paired Wilcoxon p of ridge on IMU + mass against body mass over the same
    per-runner RMSEs the network is tested on (can the ceiling's own learner show its gain?)."""
    from footdt.evaluate.stats import paired_wilcoxon

    return {t: round(paired_wilcoxon(w["ridge_mass"].to_numpy(), w["body_mass"].to_numpy()), 5)
            for t, w in per_runner_rmse(run).items()}  # fmt: skip


def _per_target(summary: dict[str, Any]) -> dict[str, Any]:
    rows = {}
    for t in summary["targets"]:
        rows[t["target"]] = {
            **{f"{pr}_{m}": round(float(t[pr][m]), 4) for pr in ("model", "body_mass", "ridge_mass")
               for m in ("rmse_subject_mean", "r", "mape_subject_mean") if pr in t},
            "beats_body_mass": bool(t["beats_body_mass"]), "p_vs_body_mass": t["p_vs_body_mass"],
            "beats_ridge_mass": bool(t.get("beats_ridge_mass", False)),
            "p_vs_ridge_mass": t.get("p_vs_ridge_mass"),
        }  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--experiment", type=Path, default=Path("specs/experiments/demo.yaml"))
    ap.add_argument("--archs", default="lstm")
    ap.add_argument("--no-control", action="store_true")
    ap.add_argument("--name", default="study_wearables")
    ap.add_argument(
        "--cohort",
        type=Path,
        default=None,
        help="cohort directory (default: DIR/cohort_solved or DIR/cohort)",
    )
    ap.add_argument(
        "--seeds", default=None, help="comma-separated seeds instead of the experiment's"
    )
    ap.add_argument(
        "--control-seeds",
        default=None,
        help="comma-separated seeds for the swapped-IMU control (default: the study's)",
    )
    ap.add_argument("--workers", type=int, default=0, help="folds in parallel (0: one per core)")
    ap.add_argument("--label-backend", default=None,
                    help="labels of this backend instead of the experiment's (e.g. sfepy)")  # fmt: skip
    ap.add_argument("--markdown-only", action="store_true",
                    help="only re-render results/<name>.md from results/<name>.json")  # fmt: skip
    a = ap.parse_args()
    if a.markdown_only:
        import json

        res = json.loads((RESULTS / f"{a.name}.json").read_text())
        (RESULTS / f"{a.name}.md").write_text(_markdown(res, list(res["runs"])))
        print((RESULTS / f"{a.name}.md").read_text())
        return

    from footdt.demo.learn import quiet_tensorflow

    quiet_tensorflow()
    from footdt.learn.ceiling import information_ceiling, load_generation
    from footdt.learn.controls import swap_runner_imu
    from footdt.learn.dataset import load_dataset
    from footdt.spec.loader import load_spec

    cohort = a.cohort or (
        a.dir / "cohort_solved" if (a.dir / "cohort_solved").is_dir() else a.dir / "cohort"
    )
    base = load_spec(a.experiment).spec
    if a.label_backend:
        base = base.model_copy(update={"label_backend": a.label_backend})
    if a.seeds:
        seeds = [int(x) for x in a.seeds.split(",")]
        base = base.model_copy(
            update={"validation": base.validation.model_copy(update={"seeds": seeds})}
        )
    ds = load_dataset(base, a.dir / "labels.db", cohort)
    print(f"{len(ds.subjects)} runners, {ds.n} trials, {len(ds.targets)} targets", flush=True)
    res: dict[str, Any] = {"dir": str(a.dir), "cohort": str(cohort), "experiment": str(a.experiment),
                           "seeds": base.validation.seeds,
                           "n_subjects": len(ds.subjects), "n_trials": ds.n, "runs": {}}  # fmt: skip
    archs = [x for x in a.archs.split(",") if x]
    for arch in archs:
        spec = base.model_copy(
            update={"model": base.model.model_copy(update={"architecture": arch})}
        )
        print(f"{arch}: LOSO", flush=True)
        run_dir = a.dir / "study" / (arch if spec.id == "demo" else f"{spec.id}_{arch}")
        s = _loso(spec, ds, run_dir, a.workers)
        res["runs"][arch] = {"model_beats": s["model_beats"], "seconds": s["seconds"],
                             "targets": _per_target(s), **_tuning(run_dir),
                             "p_ridge_mass_vs_body_mass": _readout_p(run_dir)}  # fmt: skip
    if not a.no_control:
        spec = base.model_copy(
            update={"model": base.model.model_copy(update={"architecture": archs[0]})}
        )
        if a.control_seeds:
            seeds = [int(x) for x in a.control_seeds.split(",")]
            spec = spec.model_copy(
                update={"validation": spec.validation.model_copy(update={"seeds": seeds})}
            )
        swapped, donors = swap_runner_imu(ds, seed=0)
        print(f"control: {archs[0]} with every runner's IMU swapped for another's", flush=True)
        s = _loso(spec, swapped, a.dir / "study" / f"{archs[0]}_swapped_imu", a.workers)
        res["control"] = {"architecture": archs[0], "seeds": spec.validation.seeds, "donors": donors, "model_beats": s["model_beats"],
                          "seconds": s["seconds"], "targets": _per_target(s)}  # fmt: skip
    gen = (
        cohort / "generation.json"
        if (cohort / "generation.json").is_file()
        else a.dir / "cohort" / "generation.json"
    )
    res["ceiling"] = information_ceiling(ds, load_generation(gen.parent))
    path = write(a.name, res)
    md = _markdown(res, archs)
    (RESULTS / f"{a.name}.md").write_text(md)
    print(md)
    print(f"written {path}")


def _markdown(res: dict[str, Any], archs: list[str]) -> str:
    arch = archs[0]
    run = res["runs"][arch]["targets"]
    ctrl = res.get("control", {}).get("targets", {})
    ceil = res["ceiling"]["targets"]
    lines = [f"| target | {arch} RMSE | body mass | ridge IMU+mass | p vs body mass | swapped IMU "
             "| R² mass | R² IMU+mass | R² state+mass |", "|---" * 9 + "|"]  # fmt: skip
    for t, r in run.items():
        c, g = ctrl.get(t, {}), ceil[t]["labels"]
        lines.append(
            f"| {t} | {r['model_rmse_subject_mean']:.2f} | {r['body_mass_rmse_subject_mean']:.2f} | "
            f"{r['ridge_mass_rmse_subject_mean']:.2f} | {r['p_vs_body_mass']:.3g} | "
            f"{c.get('model_rmse_subject_mean', float('nan')):.2f} | {g['body_mass']:.2f} | "
            f"{g['imu_mass']:.2f} | {g['state_mass']:.2f} |"
        )
    beats = {k: v["model_beats"] for k, v in res["runs"].items()}
    lines += ["", *_ceiling_lines(res, archs)]
    lines.append("")
    lines.append(f"model beats (of {len(run)}): {beats}; swapped-IMU control: "
                 f"{res.get('control', {}).get('model_beats')}")  # fmt: skip
    return "\n".join(lines) + "\n"


def _ceiling_lines(res: dict[str, Any], archs: list[str]) -> list[str]:
    """Per architecture: on the targets where the ceiling says IMU + mass adds >= 0.10 R² over
    mass, on how many the network (and ridge on IMU + mass) is below body mass with p < ALPHA."""
    from footdt.evaluate.stats import ALPHA

    ceil = res["ceiling"]["targets"]
    want = [t for t, c in ceil.items() if c["imu_gain_over_mass"] >= CEILING_GAIN]
    out = [f"ceiling targets (IMU + mass adds >= {CEILING_GAIN} R² over mass): {len(want)}"]
    for arch in archs:
        run = res["runs"][arch]
        tg, pr = run["targets"], run.get("p_ridge_mass_vs_body_mass", {})
        net = [
            t for t in want if tg[t]["beats_body_mass"] and (tg[t]["p_vs_body_mass"] or 1) < ALPHA
        ]
        ridge = [t for t in want if tg[t]["ridge_mass_rmse_subject_mean"]
                 < tg[t]["body_mass_rmse_subject_mean"] and pr.get(t, 1.0) < ALPHA]  # fmt: skip
        rid = f"on {len(ridge)} of {len(want)}" if pr else "not recorded in this run"
        out.append(f"{arch}: lower than body mass with p < {ALPHA} on {len(net)} of {len(want)}; "
                   f"ridge IMU + mass {rid}; not the network: "
                   f"{', '.join(sorted(set(want) - set(net))) or 'none'}")  # fmt: skip
    return out


#: The issue's bar: the gain in out-of-sample R² of IMU + mass over mass that makes a target one
#: on which the network must be significantly better than body mass.
CEILING_GAIN = 0.10


if __name__ == "__main__":
    main()
