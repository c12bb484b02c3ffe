"""footdt's own vectorised finite-element kernel for the hot path of a cohort run.

Linear elasticity on linear (``tetra``) and quadratic (``tetra10``) tetrahedra, assembled with
NumPy in node blocks (3x3) straight into a symmetric sparsity pattern that is built once per mesh
topology and reused by every morphed runner; consistent surface-pressure loads on the IR's
(element, face) pairs; element stresses (volume average). No per-problem set-up beyond that.

- ``elements``: reference shape functions and quadrature of each element type;
- ``assembly``: ``Topology`` (pattern, scatter maps; cached by topology) and ``Discretisation``
  (stiffness in node blocks, unit pressure loads, stresses) of one model;
- ``statics``: the phases of a linear static model: loads, prescribed DOFs, connectors (with the
  tension-only active set), one factorisation per distinct system, residual checks. Shared by the
  ``native`` and ``sfepy`` backends.

Why not scikit-fem: its assembly of the same 2.5 mm foot (352k tets) took 13-30 s (machine load)
and 2.75 GB here (a Python loop over the 144 pairs of local basis functions and a 47M-entry COO
matrix), against 1.4-1.9 s and 0.79 GB (benchmarks/bench_skfem.py, docs/performance.md).
"""
