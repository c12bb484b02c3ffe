"""Error against closed-form answers as the mesh is refined, per backend and element order.

Writes benchmarks/results/verification.json and prints the Markdown table used in
docs/verification.md. Usage: .venv/bin/python benchmarks/verification_convergence.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write

from footdt.backends import get_backend
from footdt.verify.run import run_case

STUDY = {"cantilever": (5.0, 2.5, 1.25), "lame_cylinder": (2.0, 1.0, 0.5)}


def main() -> None:
    rows = []
    backends = [b for b in ("sfepy", "calculix") if get_backend(b).availability()]
    with tempfile.TemporaryDirectory() as tmp:
        for case, sizes in STUDY.items():
            for order in (1, 2):
                for backend in backends:
                    if order == 2 and "element.tetra10" not in get_backend(backend).capabilities:
                        continue
                    for size in sizes:
                        run = run_case(
                            case, backend, Path(tmp) / f"{case}{order}{backend}{size}", size, order
                        )
                        for c in run.checks:
                            rows.append(
                                {
                                    "case": case,
                                    "backend": backend,
                                    "order": order,
                                    "size_mm": size,
                                    "nodes": run.model.n_nodes,
                                    "quantity": c.quantity,
                                    "expected": c.expected,
                                    "measured": c.measured,
                                    "rel_error": c.rel_error,
                                }
                            )
                            print(
                                f"{case:14s} {backend:8s} p{order} h={size:<5} n={run.model.n_nodes:<7} "
                                f"{c.quantity:36s} err {100 * c.rel_error:8.4f} %",
                                flush=True,
                            )
    path = write("verification", {"rows": rows})
    print(f"\nwrote {path}\n")
    print("| case | quantity | backend | element | h (mm) | nodes | error |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        elem = "C3D4" if r["order"] == 1 else "C3D10"
        print(
            f"| {r['case']} | {r['quantity']} | {r['backend']} | {elem} | {r['size_mm']} | {r['nodes']} | "
            f"{100 * r['rel_error']:.3f} % |"
        )


if __name__ == "__main__":
    main()
