"""scikit-fem's assembly of the foot's stiffness, against footdt's own kernel (issue 15).

The template at ``--size`` mm: scikit-fem (``pip install scikit-fem``; not a footdt dependency)
assembles linear elasticity with a vector P1 basis and per-element Lame parameters (one point
rule), and footdt's ``fem.assembly`` the same matrix; each in a fresh process (wall time, peak
memory), then the two matrices are compared. Writes ``benchmarks/results/skfem.json``.

    .venv/bin/python benchmarks/bench_skfem.py [--size 2.5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import run_isolated, write

REPO = Path(__file__).resolve().parents[1]

SKFEM = """
import time, numpy as np, scipy.sparse as sp
from footdt.ir import load_model
m = load_model({model!r})
t0 = time.perf_counter()
from skfem import Basis, BilinearForm, ElementTetP1, ElementVector, MeshTet
from skfem.helpers import ddot, sym_grad, trace
part_of = m.element_part(); parts = list(m.parts)
E = np.array([m.materials[m.sections[p]].E for p in parts])[part_of]
nu = np.array([m.materials[m.sections[p]].nu for p in parts])[part_of]
lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
t1 = time.perf_counter()
basis = Basis(MeshTet(m.nodes.T.copy(), m.elements.T.copy()), ElementVector(ElementTetP1()), intorder=1)
@BilinearForm
def elasticity(u, v, w):
    eu, ev = sym_grad(u), sym_grad(v)
    return 2 * w.mu * ddot(eu, ev) + w.lam * trace(eu) * trace(ev)
K = elasticity.assemble(basis, lam=lam[:, None], mu=mu[:, None]).tocsr()
t2 = time.perf_counter()
sp.save_npz({out!r}, K)
import skfem
RESULT = dict(tool='scikit-fem ' + skfem.__version__, import_s=round(t1 - t0, 2),
              assemble_s=round(t2 - t1, 2), nnz=int(K.nnz))
"""

NATIVE = """
import time, numpy as np, scipy.sparse as sp
from footdt.ir import load_model
from footdt.fem.assembly import Discretisation
m = load_model({model!r})
t1 = time.perf_counter()
d = Discretisation(m)
t2 = time.perf_counter()
d2 = Discretisation(m)  # the next runner of the same topology: pattern kept
t3 = time.perf_counter()
U = d.topology.upper(d.blocks)
K = sp.csr_matrix(U + U.T - sp.diags(U.diagonal()))
Ks = sp.load_npz({skfem!r}) if __import__('os').path.exists({skfem!r}) else None
diff = float(abs(K - Ks).max() / abs(Ks).max()) if Ks is not None else None
RESULT = dict(tool='footdt.fem', assemble_first_s=round(t2 - t1, 2), assemble_again_s=round(t3 - t2, 2),
              nnz=int(K.nnz), max_rel_diff_from_skfem=diff)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=float, default=2.5)
    args = ap.parse_args()
    from footdt.compile import compile_spec
    from footdt.ir import save_model
    from footdt.spec import load_spec

    root = REPO / "build/bench/skfem"
    shutil.rmtree(root, ignore_errors=True)
    model = compile_spec(load_spec(REPO / "specs/subjects/template.yaml").with_mesh(args.size))
    path = str(save_model(model, root / "template"))
    out = str(root / "skfem_K.npz")
    rows = [run_isolated(SKFEM.replace("{model!r}", repr(path)).replace("{out!r}", repr(out)))]
    rows.append(
        run_isolated(NATIVE.replace("{model!r}", repr(path)).replace("{skfem!r}", repr(out)))
    )
    for r in rows:
        print(r, flush=True)
    print(
        f"wrote {write('skfem', {'model': f'template at {args.size} mm', 'nodes': model.n_nodes, 'elements': model.n_elements, 'rows': rows})}"
    )


if __name__ == "__main__":
    main()
