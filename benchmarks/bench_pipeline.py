"""Cohort throughput of ``footdt run``: subjects per hour with 1 and 2 workers, memory per worker.

A synthetic cohort of N subjects x 1 trial of a small primitive model (the two-material block of
specs/verification with a third load phase, so each subject has 3 phases like the paper's) is
run with ``footdt run --backend sfepy`` in a fresh process per worker count; then the same
command again, when everything is up to date (the cost of resuming). Numbers:

- ``wall_s``: the whole command (start-up, planning, solving, writing), s;
- ``subjects_per_hour``: N / wall_s * 3600;
- ``trial_s_median``: median time of one trial inside a worker (compile + solve + labels), s;
- ``worker_peak_rss_mb``: largest peak resident memory of a worker process, MB (shared pages of
  the pre-imported solver stack included);
- ``resume_s``: the second, no-op run.

With ``--foot``, the cohort is instead a synthetic runner cohort (``footdt cohort generate``,
one trial per runner) of real foot models at ``--size`` (3 mm: the paper's element size) with
the paper's three phases, once per ``--foot-models``: ``personalised`` (the template mesh
morphed to each runner: shared topology) and ``template`` (the parametric template re-meshed
for each runner). Also reported: trials that failed (e.g. a re-meshed foot refused by the mesh
quality gate) and ``minutes_for_50``: the measured rate extrapolated to the paper's 50 runners.
Usage:

    .venv/bin/python benchmarks/bench_pipeline.py [--subjects 20] [--size 4.0] [--workers 1,2]
    .venv/bin/python benchmarks/bench_pipeline.py --foot --subjects 10 --size 3 [--foot-models personalised,template]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _harness import write

REPO = Path(__file__).resolve().parents[1]


def make_cohort(root: Path, subjects: int, size: float) -> Path:
    import numpy as np
    import yaml

    from footdt.cohort.manifest import Manifest, Subject, Trial, save_manifest
    from footdt.spec.loader import read_data

    base, _ = read_data(REPO / "specs/verification/two_material_block.yaml")
    subs = []
    for i in range(subjects):
        sid, d = f"s{i + 1:03d}", root / f"s{i + 1:03d}" / "t1"
        spec = dict(
            base, id=sid, trial="t1", mesh={"size": size, "part_sizes": {"inclusion": size / 2}}
        )
        p = 0.1 * (1 + 0.01 * i)
        spec["phases"] = [
            {"name": "initial_contact", "pressures": [{"surface": "zmin", "value": p}]},
            {"name": "mid_stance", "pressures": [{"surface": "zmin", "value": 0.5 * p}],
             "forces": [{"on": "xmax", "total": [0.0, 0.0, 20.0]}]},
            {"name": "push_off", "pressures": [{"surface": "zmin", "value": 0.8 * p}],
             "forces": [{"on": "xmax", "total": [0.0, 0.0, -20.0]}]},
        ]  # fmt: skip
        d.mkdir(parents=True)
        (d / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        np.savez(d / "imu.npz", windows=np.zeros((1, 300, 6), dtype=np.float32))
        trial = Trial(id="t1", imu=f"{sid}/t1/imu.npz", spec=f"{sid}/t1/spec.yaml")
        subs.append(
            Subject(id=sid, group="rearfoot", body_mass_kg=70, height_m=1.75, trials=[trial])
        )
    save_manifest(Manifest(subjects=subs, description="bench_pipeline"), root)
    return root


def make_foot_cohort(root: Path, runners: int, size: float, foot_model: str) -> Path:
    """A generated runner cohort (1 trial each) whose subject specs mesh at ``size`` mm."""
    text = (REPO / "specs/subjects/template.yaml").read_text()
    root.mkdir(parents=True)
    (root / "template.yaml").write_text(text.replace("size: 3.0 ", f"size: {size:g} ", 1))
    (root / "cohort.yaml").write_text(
        f"kind: cohort\nid: bench\nseed: 7\nn_runners: {runners}\ntrials: 1\n"
        f"strides_per_trial: 6\nfoot_model: {foot_model}\ntemplate: template.yaml\n"
    )
    from footdt.cohort.generate import generate
    from footdt.cohort.spec import load_cohort_spec

    generate(load_cohort_spec(root / "cohort.yaml"), root / "cohort")
    return root / "cohort"


def footdt_run(
    cohort: Path, store: Path, out: Path, workers: int, backend: str = "sfepy"
) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "footdt.cli.run", "run", str(cohort), "--store", str(store),
           "--out", str(out), "--workers", str(workers), "--backend", backend, "--json"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1) or not proc.stdout.strip():  # 1: some trials failed
        raise SystemExit(f"footdt run failed: {proc.stderr.strip().splitlines()[-1:]}")
    return wall, json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--subjects", type=int, default=20)
    ap.add_argument("--size", type=float, default=4.0, help="element size, mm (inclusion: half)")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--foot", action="store_true", help="real foot models (see module doc)")
    ap.add_argument("--foot-models", default="personalised,template")
    args = ap.parse_args()
    if args.foot:
        return foot_main(args)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        cohort = make_cohort(Path(tmp) / "cohort", args.subjects, args.size)
        for w in (int(x) for x in args.workers.split(",")):
            store, out = Path(tmp) / f"labels-{w}.db", Path(tmp) / f"run-{w}"
            wall, summary = footdt_run(cohort, store, out, w)
            resume, again = footdt_run(cohort, store, out, w)
            trials = summary["trials"]
            assert summary["counts"]["done"] == args.subjects, summary["counts"]
            assert again["counts"]["up_to_date"] == args.subjects, again["counts"]
            model = json.loads(next(out.glob("*/t1/model.json")).read_text())
            nodes = len(__import__("numpy").load(next(out.glob("*/t1/arrays.npz")))["nodes"])
            row = {
                "workers": w, "threads_per_worker": summary["threads_per_worker"],
                "subjects": args.subjects, "phases": len(model["phases"]), "nodes": nodes,
                "size_mm": args.size, "wall_s": round(wall, 2),
                "subjects_per_hour": round(args.subjects / wall * 3600),
                "trial_s_median": round(statistics.median(t["wall_time_s"] for t in trials), 3),
                "worker_peak_rss_mb": max(t["peak_rss_mb"] for t in trials),
                "resume_s": round(resume, 2),
            }  # fmt: skip
            rows.append(row)
            print(
                f"{w} worker(s) x {row['threads_per_worker']} thread(s): {args.subjects} subjects "
                f"({nodes} nodes, 3 phases) in {wall:.1f} s = {row['subjects_per_hour']} subjects/h; "
                f"median trial {row['trial_s_median']} s; worker peak {row['worker_peak_rss_mb']} MB; "
                f"resume {resume:.1f} s",
                flush=True,
            )
            shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()
    path = write("pipeline", {"model": "two-material block, 3 phases (bench_pipeline.py)",
                              "load_average_at_end": [round(x, 2) for x in load], "rows": rows})  # fmt: skip
    print(f"wrote {path}")


def foot_main(args: argparse.Namespace) -> None:
    import numpy as np

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-foot-") as tmp:
        for foot_model in args.foot_models.split(","):
            cohort = make_foot_cohort(Path(tmp) / foot_model, args.subjects, args.size, foot_model)
            for w in (int(x) for x in args.workers.split(",")):
                store, out = (
                    Path(tmp) / f"labels-{foot_model}-{w}.db",
                    Path(tmp) / f"run-{foot_model}-{w}",
                )
                wall, summary = footdt_run(cohort, store, out, w)
                trials = summary["trials"]
                done = [t for t in trials if t.get("status") == "done"]
                nodes = [len(np.load(p)["nodes"]) for p in out.glob("*/*/arrays.npz")]
                row = {
                    "foot_model": foot_model, "workers": w, "threads_per_worker": summary["threads_per_worker"],
                    "runners": args.subjects, "size_mm": args.size, "phases": 3,
                    "nodes_median": int(np.median(nodes)) if nodes else None,
                    "done": summary["counts"].get("done", 0), "failed": summary["counts"].get("failed", 0),
                    "failures": sorted({str(t.get("reason", ""))[:160] for t in trials if t.get("status") == "failed"}),
                    "wall_s": round(wall, 1), "runners_per_hour": round(args.subjects / wall * 3600, 1),
                    "minutes_for_50": round(50 * wall / args.subjects / 60, 1),
                    "trial_s_median": round(statistics.median(t["wall_time_s"] for t in done), 2) if done else None,
                    "worker_peak_rss_mb": max((t["peak_rss_mb"] for t in done), default=None),
                }  # fmt: skip
                rows.append(row)
                print(json.dumps(row), flush=True)
                shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()
    path = write("pipeline_foot", {"model": "foot template, paper loads, 1 trial per runner (bench_pipeline.py --foot)",
                                   "load_average_at_end": [round(x, 2) for x in load], "rows": rows})  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
