"""Time and peak memory of an SfePy-backend solve of a structured two-material box (2 phases).

Each linear solver runs in a fresh process so that peak RSS (``resource.getrusage``) is its own.

    .venv/bin/python benchmarks/bench_linsolve.py            # pardiso and amg, foot-sized box, ~53k nodes
    .venv/bin/python benchmarks/bench_linsolve.py --size 100 100 100 --divisions 36 36 36  # cube
    .venv/bin/python benchmarks/bench_linsolve.py --method amg --divisions 30 12 10 --threads 1
    .venv/bin/python benchmarks/bench_linsolve.py --out benchmarks/results/linsolve.json

The model: a box of foot proportions (default 260 x 100 x 80 mm, 72 x 28 x 24 hexahedra split into 6
tets each: 52,925 nodes, 290,304 tets, 158,775 DOF), a central stiff block (half the box in each
direction; E 7300 MPa, nu 0.3) in soft material (E 1.15 MPa, nu 0.45) -- the bone/soft-tissue
contrast -- top face fixed; phase ``press`` puts 0.1 MPa on the bottom face, phase ``shear`` 500 N
on the +x face. A cube of the same node count is the worst case for direct solvers (largest
separators): about 4x the PARDISO factorisation flops.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from footdt.ir import AnalysisModel


def box_model(size: tuple[float, float, float], divisions: tuple[int, int, int]) -> AnalysisModel:
    from footdt.ir import TET_FACES, FixedDofs, Material, NodalLoad, Phase, Pressure
    from footdt.mesh.structured import box_faces, box_tets

    nodes, elements = box_tets(size, divisions)
    surfaces = box_faces(nodes, elements, np.zeros(3), np.asarray(size))
    node_sets = {
        name: np.unique(np.take_along_axis(elements[f[:, 0]], np.asarray(TET_FACES)[f[:, 1]], 1))
        for name, f in surfaces.items()
    }
    half = np.asarray(size) / 2.0
    inside = np.all(np.abs(nodes[elements].mean(axis=1) - half) < half / 2.0, axis=1)
    xmax = node_sets["xmax"]
    fixed = (FixedDofs("top", "zmax", (0, 1, 2)),)
    return AnalysisModel(
        subject="bench", trial="1", nodes=nodes, cell_type="tetra", elements=elements,
        parts={"soft": np.flatnonzero(~inside), "bone": np.flatnonzero(inside)},
        materials={"soft": Material("soft", 1.15, 0.45), "bone": Material("bone", 7300.0, 0.3)},
        sections={"soft": "soft", "bone": "bone"}, node_sets=node_sets, surfaces=surfaces,
        phases=(
            Phase("press", pressures=(Pressure("zmin", 0.1),), fixed=fixed),
            Phase("shear", nodal_loads=(NodalLoad("side", "xmax", np.tile([500.0 / len(xmax), 0, 0],
                                                                         (len(xmax), 1))),), fixed=fixed),
        ),
    )  # fmt: skip


def _cpu() -> float:
    """User + system CPU seconds of this process (all threads): robust when other jobs share the cores."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run_one(
    method: str, size: tuple[float, float, float], divisions: tuple[int, int, int], threads: int
) -> dict[str, object]:
    """Build, solve (timed) and report; call in a fresh process."""
    from footdt.backends.sfepy import SfepyBackend
    from footdt.spec.profile import options_for

    t0 = time.perf_counter()
    model = box_model(size, divisions)
    t_model = time.perf_counter() - t0
    profile = options_for("sfepy", linear_solver=method, threads=threads)
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), _cpu()
        result = SfepyBackend().solve(model, tmp, profile)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
    runs = result.info["solver_runs"]
    return {
        "method": method,
        "nodes": model.n_nodes,
        "elements": model.n_elements,
        "dof": 3 * model.n_nodes,
        "threads": threads,
        "model_build_s": round(t_model, 2),
        "solve_wall_s": round(wall, 2),
        "solve_cpu_s": round(cpu, 2),
        "timings_s": {k: round(v, 2) for k, v in result.info["timings"].items()},
        "factorizations": result.info["factorizations"],
        "factor_or_setup_s": [
            round(r.get("factor_time", r.get("setup_time", 0.0)), 2) for r in runs
        ],
        "per_rhs_solve_s": [[round(t, 2) for t in r["solve_time"]] for r in runs],
        "cg_iterations": [r.get("iterations") for r in runs],
        "max_residual": result.max_residual,
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "max_von_mises_mpa": {
            k: round(float(p.von_mises.max()), 6) for k, p in result.phases.items()
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--method", choices=["pardiso", "amg", "superlu"], action="append")
    ap.add_argument("--size", type=float, nargs=3, default=[260.0, 100.0, 80.0], help="mm")
    ap.add_argument("--divisions", type=int, nargs=3, default=[72, 28, 24])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--repeat", type=int, default=1, help="runs per method (fresh process each)")
    args = ap.parse_args()
    methods = args.method or ["pardiso", "amg"]
    if args.child:
        size, divisions = tuple(args.size), tuple(args.divisions)
        print(json.dumps(run_one(methods[0], size, divisions, args.threads)))
        return
    rows = []
    for method in [m for m in methods for _ in range(args.repeat)]:
        cmd = [sys.executable, __file__, "--child", "--method", method, "--threads", str(args.threads),
               "--size", *map(str, args.size), "--divisions", *map(str, args.divisions)]  # fmt: skip
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]))
    if args.out:
        meta = {"machine": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                "python": platform.python_version(), "command": " ".join(sys.argv),
                "load_average_at_end": os.getloadavg()}  # fmt: skip
        args.out.write_text(json.dumps({"meta": meta, "runs": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
