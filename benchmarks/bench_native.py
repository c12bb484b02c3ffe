"""The issue-15 benchmark, in one run on one mesh: the foot template at ``--size`` mm (2.5 mm:
63,791 nodes, the first size above the paper's 53-56k) solved by

- ``native cold``: footdt's own kernel + PARDISO in a fresh process (topology, assembly,
  single-precision factorisation, CG for the three phases, stresses): nothing kept;
- ``native kept``: one process that first solves the template (not timed), then morphed runners
  of the same topology with the factorisation kept (CG with it, or, when the morph is too far,
  a new factorisation with the kept symbolic analysis: the solve record says which), then one of
  them again with other loads (the kept factorisation is its own: no factorisation at all);
- ``sfepy`` (SfePy assembly + PARDISO double), ``calculix spooles`` and ``calculix iterative
  Cholesky`` (Debian's ccx 2.20 links neither PaStiX nor PARDISO),

each in a fresh process (wall time, peak RSS), with every row's labels (per bone mean, p99, max
per phase) compared with SfePy's and CalculiX's. Then ``--runners`` morphed runners x 3 phases
through ``footdt run --backend native --workers 2`` (cohort to labels). Writes
``benchmarks/results/native.json``. The machine may be shared: each row says the load average.

    .venv/bin/python benchmarks/bench_native.py [--size 2.5] [--runners 50] [--repeat 2]
        [--skip kept,sfepy,calculix,pipeline] [--old-cg] [--one-thread] [--pypardiso-call]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _harness import run_isolated, write

REPO = Path(__file__).resolve().parents[1]

# Every row prints RESULT with timings, the solver records and the labels it got.
COMMON = """
import time, os
T0 = time.perf_counter()
from footdt.ir import load_model
from footdt.backends import get_backend
from footdt.labels.reduce import reduce_result
from footdt.spec.profile import options_for
def labels(result, model):
    return {f"{r.phase}.{r.bone}.{r.stat}": r.value_mpa for r in reduce_result(result, model)
            if r.stat in ("mean", "p99", "max")}
def rss_mb():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return round(int(line.split()[1]) / 1024, 1)
def summary(result, wall):
    runs = result.info.get('solver_runs', [])
    keep = ('method', 'precision', 'kept_factor', 'preconditioner', 'iterations',
            'iterations_with_kept_factor', 'refactorised', 'refactor_reason', 'factor_time',
            'analysis_reused', 'factor_entries', 'factor_gflop', 'factor_memory_mb', 'solve_time', 'phases')
    return dict(wall_s=round(wall, 2), max_residual=result.max_residual,
                timings={k: round(v, 3) for k, v in result.info.get('timings', {}).items()},
                solver_runs=[{k: r[k] for k in keep if k in r} for r in runs],
                linear_solver=result.info.get('linear_solver'))
"""

SOLVE_ONE = (
    COMMON
    + """
model = load_model({model!r})
T1 = time.perf_counter()
prof = options_for({backend!r}, linear_solver={solver!r})
result = get_backend({backend!r}).solve(model, {work!r}, prof)
import resource
ru = resource.getrusage(resource.RUSAGE_SELF)
RESULT = dict(import_s=round(T1 - T0, 2), nodes=model.n_nodes, elements=model.n_elements,
              **summary(result, time.perf_counter() - T1), labels=labels(result, model),
              cpu_s=round(ru.ru_utime + ru.ru_stime, 1), self_peak_mb=round(ru.ru_maxrss / 1024, 1),
              load_average=os.getloadavg())
"""
)

KEPT = (
    COMMON
    + """
import numpy as np
from footdt.fem.assembly import TOPOLOGIES
from footdt.backends import linsolve
prof = options_for('native')
be = get_backend('native')
memory = dict(after_imports_mb=rss_mb())
template = load_model({template!r})
t = time.perf_counter()
first = be.solve(template, {work!r} + '/template', prof)
template_s = time.perf_counter() - t
memory['after_template_mb'] = rss_mb()
rows = []
for path in {runners!r}:
    model = load_model(path)
    t, c = time.perf_counter(), time.process_time()
    result = be.solve(model, {work!r} + '/' + model.subject, prof)
    rows.append(dict(subject=model.subject, **summary(result, time.perf_counter() - t),
                     cpu_s=round(time.process_time() - c, 1), labels=labels(result, model),
                     rss_mb=rss_mb()))
# the last runner again with 1.1 x its loads (another trial of the same runner): its own kept factor
from footdt.ir import replace, Phase, Pressure, NodalLoad
model = load_model({runners!r}[-1])
scaled = tuple(Phase(p.name, tuple(Pressure(q.surface, 1.1 * q.value) for q in p.pressures),
                     tuple(NodalLoad(n.name, n.node_set, 1.1 * n.forces) for n in p.nodal_loads), p.fixed)
               for p in model.phases)
model = replace(model, phases=scaled, trial='again')
t, c = time.perf_counter(), time.process_time()
again = be.solve(model, {work!r} + '/again', prof)
rows.append(dict(subject=model.subject + ' again (1.1 x loads)', **summary(again, time.perf_counter() - t),
                 cpu_s=round(time.process_time() - c, 1), rss_mb=rss_mb()))
disc_mb = None
topo = next(iter(TOPOLOGIES._items.values()))
import resource
memory.update(topology_mb=round(topo.nbytes() / 2**20, 1),
              kept_factor=linsolve.KEPT_FACTOR.label(), end_mb=rss_mb(),
              self_peak_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
RESULT = dict(template_s=round(template_s, 2), template=summary(first, template_s), rows=rows,
              memory=memory, load_average=os.getloadavg())
"""
)


# CG with the runner's own factor as it was before bench_precond.py: stop and restart at 1e-10
OLD_CG = """
from footdt.backends import linsolve as _ls
_ls.KEPT_CG_SAFETY = _ls.KEPT_RESTART_SAFETY = 0.01
"""

# single-precision PARDISO called through pypardiso (1-based index copies per call), as before
PYPARDISO_CALL = """
from footdt.backends import linsolve as _ls
_ls.PARDISO_ZERO_BASED = False
"""


def fill(code: str, **values: Any) -> str:
    """``code`` with each ``{name!r}`` replaced by ``repr(value)`` (the code has other braces)."""
    for name, value in values.items():
        code = code.replace("{" + name + "!r}", repr(value))
    return code


def compile_models(root: Path, size: float, runners: int) -> tuple[Path, list[Path], Path]:
    """The template model and ``runners`` morphed runners (personalised template, 1 trial each),
    compiled into model directories; and the cohort directory for ``footdt run``."""
    from bench_pipeline import make_foot_cohort

    from footdt.compile import compile_spec
    from footdt.ir import save_model
    from footdt.spec import load_spec

    template = root / "template"
    model = compile_spec(load_spec(REPO / "specs/subjects/template.yaml").with_mesh(size))
    save_model(model, template)
    cohort = make_foot_cohort(root / "cohort", runners, size, "personalised")
    dirs = []
    for spec in sorted(cohort.glob("*/*/spec.yaml"))[:3]:
        m = compile_spec(load_spec(spec))
        dirs.append(save_model(m, root / "runners" / m.subject))
    return template, dirs, cohort


def compare(rows: dict[str, dict[str, Any]], ref: str) -> dict[str, dict[str, float]]:
    """Largest relative difference of each row's labels from ``ref``'s, per statistic."""
    out: dict[str, dict[str, float]] = {}
    base = rows.get(ref, {}).get("labels") or {}
    for name, row in rows.items():
        labels = row.get("labels") or {}
        if name == ref or not labels or not base:
            continue
        diff: dict[str, float] = {}
        for key, value in base.items():
            if key in labels:
                stat = key.rsplit(".", 1)[1]
                rel = abs(labels[key] - value) / max(abs(value), 1e-12)
                diff[stat] = max(diff.get(stat, 0.0), rel)
        out[name] = {k: float(f"{v:.2e}") for k, v in diff.items()}
    return out


def pipeline(cohort: Path, root: Path, workers: int) -> dict[str, Any]:
    from bench_pipeline import footdt_run

    store, out = root / "labels.db", root / "run"
    wall, summary = footdt_run(cohort, store, out, workers, backend="native")
    trials = summary["trials"]
    done = [t for t in trials if t.get("status") == "done"]
    from footdt.labels.store import LabelStore

    refactorised = reused = made = 0
    solve_s = []
    with LabelStore(str(store)) as s:
        ids = sorted({r.solve_id for r in s.query(backend="native")})
        for rec in (s.solve(i) for i in ids):
            if rec is None:
                continue
            for run in rec.info.get("solver_runs", []):
                made += run.get("kept_factor") == "made"
                reused += run.get("kept_factor") == "reused"
                refactorised += bool(run.get("refactorised"))
            solve_s.append(sum(rec.info.get("timings", {}).values()))
    return {
        "runners": len(trials), "workers": workers, "threads_per_worker": summary["threads_per_worker"],
        "wall_s": round(wall, 1), "minutes": round(wall / 60, 2),
        "done": summary["counts"].get("done", 0), "failed": summary["counts"].get("failed", 0),
        "failures": sorted({str(t.get("reason", ""))[:160] for t in trials if t.get("status") == "failed"}),
        "trial_s_median": round(statistics.median(t["wall_time_s"] for t in done), 2) if done else None,
        "trial_s_max": round(max(t["wall_time_s"] for t in done), 2) if done else None,
        "solve_s_median": round(statistics.median(solve_s), 2) if solve_s else None,
        "worker_peak_rss_mb": max((t["peak_rss_mb"] for t in done), default=None),
        "kept_factor": {"made": made, "reused": reused, "refactorised": refactorised},
        "load_average": os.getloadavg(),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=float, default=2.5)
    ap.add_argument("--runners", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="native rows (cheap) are repeated")
    ap.add_argument("--skip", default="", help="comma list of: kept, sfepy, calculix, pipeline")
    ap.add_argument("--one-thread", action="store_true",
                    help="beside each cold row, one with the profile's threads = 1")  # fmt: skip
    ap.add_argument("--pypardiso-call", action="store_true",
                    help="beside each cold row, one calling PARDISO through pypardiso (before)")  # fmt: skip
    ap.add_argument("--root", default="build/bench/native")
    ap.add_argument("--reuse", action="store_true", help="reuse the models compiled in --root")
    ap.add_argument("--name", default="native", help="results/NAME.json")
    ap.add_argument("--old-cg", action="store_true",
                    help="beside each cold row, one with CG stopping and restarting at 1e-10 (before)")  # fmt: skip
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    root = (REPO / args.root).resolve()
    t = time.perf_counter()
    if args.reuse and (root / "template" / "model.json").is_file():
        template, cohort = root / "template", root / "cohort" / "cohort"
        runners = sorted((root / "runners").iterdir())
        shutil.rmtree(root / "run", ignore_errors=True)
        (root / "labels.db").unlink(missing_ok=True)
    else:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        template, runners, cohort = compile_models(root, args.size, args.runners)
    print(f"template + {len(runners)} runners ready in {time.perf_counter() - t:.0f} s", flush=True)
    work = str(root / "work")
    rows: dict[str, dict[str, Any]] = {}

    def row(name: str, code: str, timeout: float = 3600) -> None:
        r = run_isolated(code, timeout=timeout)
        rows[name] = r
        brief = {k: r.get(k) for k in ("wall_s", "peak_rss_mb", "timings", "error") if k in r}
        for sub in r.get("rows", []):
            runs = sub.get("solver_runs", [])
            brief[sub["subject"]] = [sub.get("wall_s"), sub.get("timings"),
                                     [(x.get("kept_factor"), x.get("iterations")) for x in runs]]  # fmt: skip
        print(f"{name}: {json.dumps(brief)}", flush=True)

    cold = fill(SOLVE_ONE, model=str(template), backend="native", solver="default", work=work)
    one_thread = cold.replace("linear_solver='default')", "linear_solver='default', threads=1)")
    assert one_thread != cold
    for i in range(args.repeat):
        row(f"native cold #{i + 1}", cold)
        if args.old_cg:
            row(f"native cold, CG stop 1e-10 (before) #{i + 1}", OLD_CG + cold)
        if args.one_thread:
            row(f"native cold, 1 thread #{i + 1}", one_thread)
        if args.pypardiso_call:
            row(f"native cold, PARDISO through pypardiso (before) #{i + 1}", PYPARDISO_CALL + cold)
        if "kept" not in skip:
            row(f"native kept #{i + 1}", fill(KEPT, template=str(template), work=work,
                                                     runners=[str(p) for p in runners]))  # fmt: skip
    if "sfepy" not in skip:
        row(
            "sfepy",
            fill(SOLVE_ONE, model=str(template), backend="sfepy", solver="pardiso", work=work),
        )
    if "calculix" not in skip and shutil.which("ccx"):
        for solver in ("spooles", "iterative_cholesky"):
            row(f"calculix {solver}", fill(SOLVE_ONE, model=str(template), backend="calculix",
                                                       solver=solver, work=work))  # fmt: skip
    agreement = {ref: compare(rows, ref) for ref in ("sfepy", "calculix spooles") if ref in rows}
    print(json.dumps(agreement, indent=1), flush=True)
    pipe = None
    if "pipeline" not in skip:
        pipe = pipeline(cohort, root, args.workers)
        print(json.dumps(pipe), flush=True)
    for r in rows.values():
        r.pop("labels", None)
        for sub in r.get("rows", []):
            sub.pop("labels", None)
    path = write(args.name, {
        "model": f"specs/subjects/template.yaml at {args.size} mm, 3 phases; runners: personalised "
                 "template (bench_pipeline.make_foot_cohort, seed 7)",
        "rows": rows, "label_agreement_max_rel": agreement, "pipeline": pipe,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    })  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
