"""The issue-6 learning check end to end: generate a cohort, solve every trial, train, evaluate.

    .venv/bin/python benchmarks/study_cohort.py --top-up specs/cohorts/study30b.yaml   # all
    .venv/bin/python benchmarks/study_cohort.py --top-up specs/cohorts/study30b.yaml \
        --steps train,evaluate --experiment specs/experiments/study30_cnn1d.yaml

Steps (``--steps``, comma-separated, default all, in this order):

- ``generate``: ``footdt cohort generate COHORT_SPEC --out WORK/cohort`` (skipped when the
  manifest exists); with ``--top-up SPEC`` also a second draw into WORK/cohort_b whose runners
  are renamed B001... (about 40 % of synthetic feet fail the mesh quality gate, see
  docs/learning.md, so one draw of 54 leaves fewer than 30);
- ``solve``: every trial spec, meshed at ``--mesh`` mm (``LoadedSpec.with_mesh``; one mesh per
  runner, reused for its trials), solved with the sfepy backend one after the other and stored
  in ``WORK/labels.db``; trials already in the store (``LabelStore.exists``) are skipped, so an
  interrupted run continues where it stopped; runners whose mesh is rejected are recorded in
  WORK/mesh_failures.json and skipped. One JSON line per solve (wall times s, nodes, elements) in
  ``WORK/solves.jsonl``; solver work directories are removed unless ``--keep``. ``--only
  main|top-up`` solves one draw (two processes can share the store);
- ``select``: WORK/cohort_used = the runners whose every trial has labels (manifest, symlinks);
- ``train``: ``footdt train EXPERIMENT --store WORK/labels.db --cohort WORK/cohort_used --out RUN``;
- ``evaluate``: ``footdt evaluate RUN`` and ``--json`` (saved), ``footdt report RUN``; Table 1
  (CSV and Markdown), the baseline comparison and the summary JSON are copied to
  ``RESULTS/<run name>/`` (``--results``, default benchmarks/results/study30).

Wall times of every step are added to ``RESULTS/timings.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FOOTDT = [sys.executable, "-m", "footdt"]
STEPS = ("generate", "solve", "select", "train", "evaluate")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd: list[Any], **kw: Any) -> subprocess.CompletedProcess[str]:
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=True, cwd=REPO, text=True, **kw)


def generate(cohort_spec: Path, cohort: Path) -> None:
    if (cohort / "manifest.json").is_file():
        log(f"generate: {cohort}/manifest.json exists, skipped")
        return
    run([*FOOTDT, "cohort", "generate", cohort_spec, "--out", cohort])


def rename_runners(cohort: Path, prefix: str) -> None:
    """Give a top-up cohort's runners other ids (R001 -> B001) so they can join the main cohort:
    directories, subject-spec ids, manifest and generation.json. Idempotent."""
    from footdt.cohort import manifest as mf

    if (cohort / "renamed.ok").is_file():
        return
    manifest = mf.load_manifest(cohort)
    gen = json.loads((cohort / "generation.json").read_text())
    new_subjects = []
    for sub in manifest.subjects:
        nid = prefix + sub.id[1:]
        (cohort / sub.id).rename(cohort / nid)
        trials = []
        for t in sub.trials:
            spec = cohort / nid / t.id / "spec.yaml"
            text = spec.read_text().replace(f"\nid: {sub.id}\n", f"\nid: {nid}\n")
            spec.write_text(text.replace(f"synthetic runner {sub.id} ", f"synthetic runner {nid} "))
            upd = {k: getattr(t, k).replace(f"{sub.id}/", f"{nid}/", 1)
                   for k in ("imu", "spec", "pressure")}  # fmt: skip
            trials.append(t.model_copy(update=upd))
        new_subjects.append(sub.model_copy(update={"id": nid, "trials": trials}))
    for rec in gen["subjects"]:
        rec["id"] = prefix + rec["id"][1:]
    (cohort / "generation.json").write_text(json.dumps(gen, indent=1) + "\n")
    mf.save_manifest(manifest.model_copy(update={"subjects": new_subjects}), cohort)
    (cohort / "renamed.ok").write_text(f"runner ids R -> {prefix}\n")
    log(f"renamed the runners of {cohort} to {prefix}###")


def solve_all(cohort: Path, store: Path, mesh_mm: float, work: Path, keep: bool) -> dict[str, Any]:
    """Solve every trial not yet in the store; return counts and wall times (s).

    A runner's trials share its foot, so the foot is meshed once per runner and the mesh reused.
    When the mesher's quality gate rejects a runner's foot at ``mesh_mm``, the runner is recorded
    in WORK/mesh_failures.json and skipped (no other size is tried: every trial of the study has
    the same mesh size); ``select_solved`` then leaves it out of the cohort that is learned.
    """
    from footdt.backends import get_backend
    from footdt.cohort.manifest import load_manifest
    from footdt.compile import compile_spec
    from footdt.compile.mesh_geometry import mesh_geometry
    from footdt.errors import MeshError
    from footdt.labels import LabelStore, store_result
    from footdt.spec.loader import load_spec

    manifest = load_manifest(cohort)
    backend = get_backend("sfepy")
    fail_file = work / "mesh_failures.json"
    failures: dict[str, str] = json.loads(fail_file.read_text()) if fail_file.is_file() else {}
    trials = [(s.id, t) for s in manifest.subjects for t in s.trials]
    times: list[float] = []
    skipped = 0
    mesh_of: dict[str, Any] = {}
    for i, (sid, trial) in enumerate(trials, 1):
        with LabelStore(store) as st:
            done = st.exists(subject=sid, trial=trial.id, backend="sfepy")
        if done or sid in failures:
            skipped += 1
            continue
        t0 = time.perf_counter()
        loaded = load_spec(cohort / trial.spec).with_mesh(mesh_mm)
        if sid not in mesh_of:
            try:
                mesh_of = {sid: mesh_geometry(loaded.spec, loaded.source)}  # type: ignore[arg-type]
            except MeshError as exc:
                failures[sid] = str(exc).split(": ", 2)[-1]
                if fail_file.is_file():  # another process (--only) may have added runners
                    failures = {**json.loads(fail_file.read_text()), **failures}
                fail_file.write_text(json.dumps(failures, indent=1) + "\n")
                log(f"solve {i}/{len(trials)} {sid}: mesh rejected at {mesh_mm} mm, runner skipped "
                    f"({failures[sid][:80]})")  # fmt: skip
                continue
        model = compile_spec(loaded, mesh_of[sid])
        t_compile = time.perf_counter() - t0
        wd = work / "solves" / f"{sid}_{trial.id}"
        result = backend.solve(model, wd)
        rows = store_result(store, result, model)
        wall = time.perf_counter() - t0
        times.append(wall)
        rec = {"subject": sid, "trial": trial.id, "mesh_mm": mesh_mm, "nodes": model.n_nodes,
               "elements": model.n_elements, "compile_s": round(t_compile, 2),
               "solve_s": round(result.wall_time, 2), "total_s": round(wall, 2),
               "labels": len(rows)}  # fmt: skip
        with (work / "solves.jsonl").open("a") as f:
            f.write(json.dumps(rec) + "\n")
        if not keep:
            shutil.rmtree(wd, ignore_errors=True)
        eta = (len(trials) - i) * sum(times) / len(times)
        log(f"solve {i}/{len(trials)} {sid}/{trial.id}: {model.n_nodes} nodes, "
            f"{wall:.1f} s (compile {t_compile:.1f} s); ~{eta / 60:.1f} min left")  # fmt: skip
    log(f"solve: {len(times)} solved, {skipped} skipped (in the store or mesh rejected)")
    return {"n_trials": len(trials), "solved_now": len(times), "skipped": skipped,
            "mesh_rejected_runners": sorted(failures), "wall_s_this_call": round(sum(times), 1)}  # fmt: skip


def select_solved(cohorts: list[Path], store: Path, used: Path) -> int:
    """Write ``used``: the runners of ``cohorts`` whose every trial has labels (one manifest,
    symlinks to the runner directories, a merged generation.json)."""
    from footdt.cohort import manifest as mf
    from footdt.labels import LabelStore

    with LabelStore(store, create=False) as st:
        done = {(r.subject, r.trial) for r in st.query(backend="sfepy")}
    if used.exists():
        shutil.rmtree(used)
    used.mkdir(parents=True)
    keep, drawn, gen_subjects = [], 0, []
    first: Any = None
    for cohort in cohorts:
        manifest = mf.load_manifest(cohort)
        first = first or manifest
        drawn += len(manifest.subjects)
        ok = [s for s in manifest.subjects if all((s.id, t.id) in done for t in s.trials)]
        for s in ok:
            (used / s.id).symlink_to(cohort / s.id)
        keep += ok
        ids = {s.id for s in ok}
        gen = json.loads((cohort / "generation.json").read_text())
        gen_subjects += [g for g in gen["subjects"] if g["id"] in ids]
    gen["subjects"] = gen_subjects
    gen["merged_from"] = [str(c) for c in cohorts]
    (used / "generation.json").write_text(json.dumps(gen, indent=1) + "\n")
    mf.save_manifest(first.model_copy(update={"subjects": keep}), used)
    log(f"select: {len(keep)} of {drawn} runners fully solved -> {used}")
    return len(keep)


def evaluate(run_dir: Path, results: Path) -> dict[str, Any]:
    run([*FOOTDT, "evaluate", run_dir])
    out = run([*FOOTDT, "evaluate", run_dir, "--json"], capture_output=True)
    results.mkdir(parents=True, exist_ok=True)
    (results / "evaluation.json").write_text(out.stdout)
    run([*FOOTDT, "report", run_dir, "--out", run_dir / "report.html"])
    ev = run_dir / "evaluation"
    for name in ("table1.csv", "table1.md", "summary.json", "baseline_comparison.csv"):
        if (ev / name).is_file():
            shutil.copy(ev / name, results / name)
    return {"evaluation": str(ev)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cohort-spec", type=Path, default=Path("specs/cohorts/study30.yaml"))
    ap.add_argument("--experiment", type=Path, default=Path("specs/experiments/study30.yaml"))
    ap.add_argument("--work", type=Path, default=Path("build/study30"))
    ap.add_argument("--run", type=Path, default=None, help="Run directory (default WORK/runs/ID).")
    ap.add_argument("--results", type=Path, default=Path("benchmarks/results/study30"),
                    help="Small result files: timings.json, and RUN_NAME/ with Table 1 etc.")  # fmt: skip
    ap.add_argument("--mesh", type=float, default=5.0, help="Global element size, mm.")
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--keep", action="store_true", help="Keep the solver work directories.")
    ap.add_argument("--top-up", type=Path, default=None,
                    help="A second cohort spec (other seed) whose runners, renamed B###, join the "
                    "main cohort (WORK/cohort_b).")  # fmt: skip
    ap.add_argument("--only", choices=("all", "main", "top-up"), default="all",
                    help="Which cohort(s) the generate and solve steps work on.")  # fmt: skip
    args = ap.parse_args(argv)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    bad = [s for s in steps if s not in STEPS]
    if bad:
        ap.error(f"unknown step(s) {bad}; choose from {STEPS}")
    work = (REPO / args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    cohort, store = work / "cohort", work / "labels.db"
    used = work / "cohort_used"  # the runners whose every trial was solved
    cohort_b = work / "cohort_b"
    cohorts = [cohort, *([cohort_b] if args.top_up else [])]
    work_on = {"all": cohorts, "main": [cohort], "top-up": [cohort_b]}[args.only]
    run_dir = args.run or work / "runs" / args.experiment.stem
    results = REPO / args.results
    timing_file = results / "timings.json"
    results.mkdir(parents=True, exist_ok=True)
    for step in STEPS:
        if step not in steps:
            continue
        t0 = time.perf_counter()
        info: dict[str, Any] = {}
        if step == "generate":
            if args.only != "top-up":
                generate(args.cohort_spec, cohort)
            if args.top_up and args.only != "main":
                generate(args.top_up, cohort_b)
                rename_runners(cohort_b, "B")
        elif step == "solve":
            for c in work_on:
                info[c.name] = solve_all(c, store, args.mesh, work, args.keep)
        elif step == "select":
            info["runners_used"] = select_solved(cohorts, store, used)
        elif step == "train":
            run([*FOOTDT, "train", args.experiment, "--store", store, "--cohort", used,
                 "--out", run_dir, "--force"])  # fmt: skip
        else:
            info = evaluate(Path(run_dir), results / Path(run_dir).name)
        wall = time.perf_counter() - t0
        key = f"{step}:{args.only}" if step in ("generate", "solve") else step
        key = key if step in ("generate", "solve", "select") else f"{step}:{Path(run_dir).name}"
        timings = json.loads(timing_file.read_text()) if timing_file.is_file() else {}
        timings[key] = {"wall_s": round(wall, 1), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                         "mesh_mm": args.mesh, **info}  # fmt: skip
        timing_file.write_text(json.dumps(timings, indent=1) + "\n")
        log(f"{step}: {wall:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
