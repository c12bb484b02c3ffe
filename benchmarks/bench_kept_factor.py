"""How far from the factorised mesh can a morphed runner be and still be solved by CG
preconditioned with that factorisation? (issue 15, docs/performance.md)

The template at ``--size`` mm is factorised (PARDISO, double); a cohort runner (the personalised
template, ``bench_pipeline.make_foot_cohort``, seed 7) gives the morph. For meshes a fraction
``alpha`` of the way from the template to the runner (same topology; ``scale`` is the template
scaled by 1.1, i.e. K x 1.1 except the connector springs), the mid-stance system is solved by CG
preconditioned with the template's factor, to a relative residual of 1e-9 (at most
``--max-iterations``); and, for some, with the 6 rigid-body modes of each bone of the runner's
mesh deflated (BNN two-level preconditioner). Writes ``benchmarks/results/kept_factor.json``.

    .venv/bin/python benchmarks/bench_kept_factor.py [--size 4] [--alphas scale,0.002,0.01,0.05,0.2,1]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _harness import write

REPO = Path(__file__).resolve().parents[1]


def system(model):  # type: ignore[no-untyped-def]
    from footdt.backends.native import _Assembler
    from footdt.fem.assembly import Discretisation
    from footdt.fem.statics import phase_constraints, phase_rhs

    disc = Discretisation(model)
    fixed, _ = phase_constraints(model, model.phases[1])
    A, _, _ = _Assembler(model, disc)(np.ones(len(model.connectors), bool), fixed)
    b = phase_rhs(model, model.phases[1], disc.unit_pressure)
    b[fixed] = 0.0
    return A, b, fixed


def bone_modes(model, fixed) -> sp.csr_matrix:  # type: ignore[no-untyped-def]
    """The 6 rigid-body modes of every part stiffer than 10x the softest, on its own nodes."""
    from footdt.backends.linsolve import rigid_body_modes

    E = {p: model.materials[model.sections[p]].E for p in model.parts}
    rows, cols, vals, j = [], [], [], 0
    for part, idx in model.parts.items():
        if E[part] < 10 * min(E.values()):
            continue
        nodes = np.unique(model.elements[idx])
        R = rigid_body_modes(model.nodes[nodes])
        dofs = (3 * nodes[:, None] + np.arange(3)).ravel()
        for c in range(6):
            rows.append(dofs)
            cols.append(np.full(len(dofs), j))
            vals.append(R[:, c])
            j += 1
    W = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(3 * model.n_nodes, j))  # fmt: skip
    keep = np.ones(3 * model.n_nodes)
    keep[fixed] = 0.0
    return sp.csr_matrix(sp.diags(keep) @ W)


def pcg(A, b, apply, tol: float, maxit: int) -> list[float]:  # type: ignore[no-untyped-def]
    x, r = np.zeros_like(b), b.copy()
    z = apply(r)
    p, rz, nb, hist = z.copy(), r @ z, np.linalg.norm(b), []
    for _ in range(maxit):
        q = A @ p
        a = rz / (p @ q)
        x += a * p
        r -= a * q
        hist.append(float(np.linalg.norm(r) / nb))
        if hist[-1] < tol:
            break
        z = apply(r)
        rz_new = r @ z
        p = z + rz_new / rz * p
        rz = rz_new
    return hist


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=float, default=4.0)
    ap.add_argument("--alphas", default="scale,0.002,0.01,0.05,0.2,1")
    ap.add_argument(
        "--deflate", default="0.05,0.2,1", help="alphas also run with bone modes deflated"
    )
    ap.add_argument("--max-iterations", type=int, default=150)
    args = ap.parse_args()
    from bench_pipeline import make_foot_cohort

    from footdt.backends.linsolve import PardisoSPD
    from footdt.compile import compile_spec
    from footdt.ir import replace
    from footdt.spec import load_spec

    root = REPO / "build/bench/kept_factor"
    shutil.rmtree(root, ignore_errors=True)
    template = compile_spec(load_spec(REPO / "specs/subjects/template.yaml").with_mesh(args.size))
    cohort = make_foot_cohort(root, 1, args.size, "personalised")
    runner = compile_spec(load_spec(next(cohort.glob("*/*/spec.yaml"))))
    A0, _, _ = system(template)
    t = time.perf_counter()
    ref = PardisoSPD(A0, reuse_analysis=False)
    factor_s = time.perf_counter() - t
    deflate = {float(a) for a in args.deflate.split(",")}
    rows = []
    for alpha_text in args.alphas.split(","):
        scale = alpha_text == "scale"
        alpha = 0.0 if scale else float(alpha_text)
        nodes = (
            1.1 * template.nodes
            if scale
            else template.nodes + alpha * (runner.nodes - template.nodes)
        )
        model = replace(runner, nodes=nodes)
        A, b, fixed = system(model)
        for deflated in (False, True) if alpha in deflate else (False,):
            apply = ref.solve
            if deflated:
                W = bone_modes(model, fixed)
                AW = sp.csr_matrix(A.full() @ W)
                Ei = np.linalg.inv((W.T @ AW).toarray())

                def apply(r, W=W, AW=AW, Ei=Ei):  # type: ignore[no-untyped-def]
                    y = ref.solve(r - AW @ (Ei @ (W.T @ r)))
                    return y - W @ (Ei @ (AW.T @ y)) + W @ (Ei @ (W.T @ r))

            t = time.perf_counter()
            hist = pcg(A, b, apply, 1e-9, args.max_iterations)
            row = {"alpha": alpha_text, "deflated_bone_modes": deflated,
                   "iterations": len(hist), "converged": hist[-1] < 1e-9,
                   "final_residual": float(f"{hist[-1]:.2e}"), "seconds": round(time.perf_counter() - t, 1),
                   "residual_every_5": [float(f"{h:.1e}") for h in hist[::5]]}  # fmt: skip
            rows.append(row)
            print(row, flush=True)
    path = write("kept_factor", {
        "model": f"template at {args.size} mm; runner R001 of bench_pipeline.make_foot_cohort (seed 7)",
        "nodes": template.n_nodes, "template_factor_s": round(factor_s, 1), "rows": rows,
    })  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
