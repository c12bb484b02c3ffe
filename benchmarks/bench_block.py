"""Compile and solve the two-material block at ~10k, ~50k and ~100k nodes on every open solver.

Each (size, solver) pair runs in a fresh process so peak memory is its own. Writes
benchmarks/results/block.json and prints a table. Usage:

    .venv/bin/python benchmarks/bench_block.py [--sizes 1.6,1.0,0.78] [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import run_isolated, write

SOLVE = """
import time
from footdt.spec import load_spec
from footdt.spec.loader import LoadedSpec
from footdt.compile import compile_spec
from footdt.backends import get_backend
from footdt.spec.profile import options_for
l = load_spec('specs/verification/two_material_block.yaml')
mesh = l.spec.mesh.model_copy(update={{'size': {size}, 'part_sizes': {{'inclusion': {size}}}}})
t0 = time.perf_counter()
model = compile_spec(LoadedSpec(l.spec.model_copy(update={{'mesh': mesh}}), l.source))
t1 = time.perf_counter()
profile = options_for('{backend}', linear_solver='{solver}')
result = get_backend('{backend}').solve(model, 'build/bench/{backend}-{solver}-{size}', profile)
t2 = time.perf_counter()
RESULT = dict(nodes=model.n_nodes, elements=model.n_elements, phases=len(model.phases),
              compile_s=round(t1 - t0, 2), solve_s=round(t2 - t1, 2), max_residual=result.max_residual)
"""

SOLVERS = [
    ("sfepy", "pardiso"),
    ("sfepy", "amg"),
    ("calculix", "spooles"),
    ("calculix", "iterative_cholesky"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--sizes", default="1.6,1.0,0.78", help="element sizes in mm (~10k, ~50k, ~100k nodes)"
    )
    ap.add_argument("--quick", action="store_true", help="only the smallest size")
    args = ap.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")][: 1 if args.quick else None]
    rows = []
    for size in sizes:
        for backend, solver in SOLVERS:
            if backend == "calculix" and shutil.which("ccx") is None:
                continue
            r = run_isolated(SOLVE.format(size=size, backend=backend, solver=solver))
            r.update(size_mm=size, backend=backend, solver=solver)
            rows.append(r)
            print(
                f"{size:5.2f} mm {backend:9s} {solver:19s} nodes {r.get('nodes', '-'):>7} "
                f"compile {r.get('compile_s', '-'):>6} s  solve {r.get('solve_s', '-'):>7} s  "
                f"peak {r.get('peak_rss_mb', '-'):>7} MB  {r.get('error', '')}",
                flush=True,
            )
    path = write(
        "block", {"model": "specs/verification/two_material_block.yaml (2 phases)", "rows": rows}
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
