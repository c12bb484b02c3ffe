"""Mesh and solve the built-in foot model (specs/subjects/template.yaml) at several element sizes.

Each (size, backend) pair runs in a fresh process so peak memory is its own. Writes
benchmarks/results/template.json and prints a table. Targets (issue 3, ~55k nodes at the paper's
3 mm): mesh <= 30 s; sfepy solve of all three phases <= 30 s and <= 3 GB on 2 cores. For sfepy
the model is then solved a second time in the same process (``solve_again_s``): what the next
subject of a morphed cohort costs a worker, with PARDISO's symbolic analysis reused
(``analysis_reused_again``; ``factor_s`` / ``factor_again_s`` per factorisation). Usage:

    .venv/bin/python benchmarks/bench_template.py [--sizes 5,4,3,2] [--backends sfepy,calculix]
        [--calculix-sizes 5,4,3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import run_isolated, write

RUN = """
import time
from footdt.spec import load_spec
from footdt.compile import compile_spec
from footdt.backends import get_backend
t0 = time.perf_counter()
model = compile_spec(load_spec('specs/subjects/template.yaml').with_mesh({size}))
t1 = time.perf_counter()
result = get_backend('{backend}').solve(model, 'build/bench/template-{backend}-{size}')
t2 = time.perf_counter()
RESULT = dict(nodes=model.n_nodes, elements=model.n_elements, phases=len(model.phases),
              mesh_and_compile_s=round(t1 - t0, 2), solve_s=round(t2 - t1, 2),
              max_residual=result.max_residual)
runs = result.info.get('solver_runs', [])
if runs:  # sfepy: the same model again in this process, as the next morphed subject would be
    RESULT['factorizations'] = len(runs)
    RESULT['factor_s'] = [round(r['factor_time'], 2) for r in runs]
    RESULT['analysis_reused'] = [r.get('analysis_reused') for r in runs]
    t3 = time.perf_counter()
    again = get_backend('{backend}').solve(model, 'build/bench/template-{backend}-{size}-again')
    RESULT['solve_again_s'] = round(time.perf_counter() - t3, 2)
    RESULT['factor_again_s'] = [round(r['factor_time'], 2) for r in again.info['solver_runs']]
    RESULT['analysis_reused_again'] = [r.get('analysis_reused') for r in again.info['solver_runs']]
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="5,4,3,2", help="element sizes in mm")
    ap.add_argument("--backends", default="sfepy,calculix")
    ap.add_argument(
        "--calculix-sizes",
        default=None,
        help="sizes for CalculiX if not all of --sizes (SPOOLES at 2 mm needs ~1 h and > 10 GB)",
    )
    args = ap.parse_args()
    rows = []
    ccx_sizes = {float(s) for s in (args.calculix_sizes or args.sizes).split(",")}
    for size in [float(s) for s in args.sizes.split(",")]:
        for backend in args.backends.split(","):
            if backend == "calculix" and (shutil.which("ccx") is None or size not in ccx_sizes):
                continue
            r = run_isolated(RUN.format(size=size, backend=backend), timeout=3600)
            r.update(size_mm=size, backend=backend)
            rows.append(r)
            print(
                f"{size:4.1f} mm {backend:9s} nodes {r.get('nodes', '-'):>7} "
                f"mesh+compile {r.get('mesh_and_compile_s', '-'):>6} s  solve {r.get('solve_s', '-'):>7} s  "
                f"peak {r.get('peak_rss_mb', '-'):>7} MB  again {r.get('solve_again_s', '-')} s "
                f"(factor {r.get('factor_s', '-')} -> {r.get('factor_again_s', '-')} s)  "
                f"{r.get('error', '')}",
                flush=True,
            )
    path = write("template", {"model": "specs/subjects/template.yaml (3 phases)", "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
