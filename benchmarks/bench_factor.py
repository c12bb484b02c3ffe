"""Why PARDISO's factorisation of the foot grows as it does with the element size (issue 15).

For each ``--sizes`` (mm) the template is compiled once; then, each in a fresh process, the
constrained stiffness matrix of its first phase (all fascia bands active) is factorised by
PARDISO (symmetric positive definite, METIS) in double precision with 2 and 1 threads, in single
precision (scaled), and without the connector springs in the pattern. Recorded: DOF, nonzeros of
the upper triangle, nonzeros of the Cholesky factor and its GFlop (PARDISO's own counts), the
factorisation's wall time and GFlop/s, its memory and the process's peak. Writes
``benchmarks/results/factor.json``.

    .venv/bin/python benchmarks/bench_factor.py [--sizes 4,3,2.5,2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import run_isolated, write

REPO = Path(__file__).resolve().parents[1]

FACTOR = """
import time, numpy as np
from footdt.ir import load_model, replace
from footdt.fem.assembly import Discretisation
from footdt.fem.statics import phase_constraints
from footdt.backends.native import _Assembler
from footdt.backends import linsolve
model = load_model({model!r})
if {drop_connectors}:
    model = replace(model, connectors=())
fixed, _ = phase_constraints(model, model.phases[0])
A, _, _ = _Assembler(model, Discretisation(model))(np.ones(len(model.connectors), bool), fixed)
t = time.perf_counter()
fac = linsolve.PardisoSPD(A, threads={threads}, reuse_analysis=False, precision={precision!r})
wall = time.perf_counter() - t
i = fac.info
RESULT = dict(dof=A.shape[0], nnz_upper=A.upper.nnz, factor_entries=i['factor_entries'],
              factor_gflop=i['factor_gflop'], factor_s=round(wall, 2),
              gflop_per_s=round(i['factor_gflop'] / wall, 1), factor_memory_mb=i['factor_memory_mb'],
              load_average=[round(x, 2) for x in __import__('os').getloadavg()])
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="4,3,2.5,2")
    ap.add_argument("--root", default="build/bench/factor")
    ap.add_argument(
        "--all-variants-from", type=float, default=2.5, help="smaller sizes: double only"
    )
    args = ap.parse_args()
    from footdt.compile import compile_spec
    from footdt.ir import save_model
    from footdt.spec import load_spec

    root = (REPO / args.root).resolve()
    shutil.rmtree(root, ignore_errors=True)
    rows = []
    for size in (float(s) for s in args.sizes.split(",")):
        model = compile_spec(load_spec(REPO / "specs/subjects/template.yaml").with_mesh(size))
        path = save_model(model, root / f"template-{size:g}")
        variants = [("double", 2, False), ("double", 1, False), ("single", 2, False),
                    ("double", 2, True)]  # fmt: skip
        if size < args.all_variants_from:  # the finest size: the reference factorisation only
            variants = variants[:1]
        for precision, threads, drop in variants:
            r = run_isolated(FACTOR.format(model=str(path), threads=threads, precision=precision,
                                           drop_connectors=drop), timeout=3600)  # fmt: skip
            r.update(size_mm=size, nodes=model.n_nodes, elements=model.n_elements,
                     precision=precision, threads=threads, connectors=not drop)  # fmt: skip
            rows.append(r)
            print(r, flush=True)
    path = write("factor", {"model": "specs/subjects/template.yaml, phase 1 matrix", "rows": rows,
                            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]})  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
