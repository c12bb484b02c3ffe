"""The phases of a linear static model: loads, prescribed DOFs, connectors, solves (numpy/scipy).

Shared by the ``native`` and ``sfepy`` backends (moved here from ``backends/sfepy.py``, which
re-exports the names). ``solve_phases`` solves every phase with one factorisation per distinct
(fixed-DOF set, active connectors); tension-only connectors are resolved by an active-set loop;
every solution's residual is checked against the profile's ``rtol``. A backend may pass its own
``assemble`` (the constrained matrix and the operator K of one system) and ``factorize``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from footdt.backends import linsolve
from footdt.errors import ModelError, SolveError, UnsupportedFeature
from footdt.ir import AnalysisModel, Phase
from footdt.results import PhaseResult
from footdt.spec.profile import SolverProfile

#: ``assemble(active, fixed) -> (A, K, d)``: the constrained matrix handed to the factorisation
#: (prescribed rows/columns replaced by ``d * I``) and the unconstrained stiffness K (anything
#: with ``@``), both with the ``active`` connectors' springs.
Assemble = Callable[[np.ndarray, np.ndarray], tuple[Any, Any, float]]
Factorize = Callable[[Any], linsolve.Factorization]


def phase_rhs(
    model: AnalysisModel, phase: Phase, unit_pressure: dict[str, np.ndarray]
) -> np.ndarray:
    """External force vector (N, IR DOF order) of ``phase``: pressures plus nodal loads."""
    f = np.zeros(3 * model.n_nodes)
    for p in phase.pressures:
        f += p.value * unit_pressure[p.surface]
    for load in phase.nodal_loads:
        nodes = model.node_sets[load.node_set]
        forces = np.asarray(load.forces, dtype=np.float64).reshape(-1, 3)
        if len(forces) != len(nodes):
            raise ModelError(
                f"nodal load '{load.name}': {len(forces)} forces for {len(nodes)} nodes"
            )
        np.add.at(f.reshape(-1, 3), nodes, forces)
    return f


def phase_constraints(model: AnalysisModel, phase: Phase) -> tuple[np.ndarray, np.ndarray]:
    """Sorted prescribed DOFs (IR order) of ``phase`` and their values (mm)."""
    dofs, vals = [], []
    for fx in phase.fixed:
        nodes = np.asarray(model.node_sets[fx.node_set], dtype=np.int64)
        for d in fx.dofs:
            dofs.append(3 * nodes + int(d))
            vals.append(np.full(len(nodes), float(fx.value)))
    if not dofs:
        raise SolveError(
            f"phase '{phase.name}' fixes no DOF, so the model can move freely; add a fixed set"
        )
    all_dofs, all_vals = np.concatenate(dofs), np.concatenate(vals)
    uniq, first, inverse = np.unique(all_dofs, return_index=True, return_inverse=True)
    clash = np.abs(all_vals - all_vals[first][inverse]) > 1e-12 * (1.0 + np.abs(all_vals))
    if np.any(clash):
        dof = int(all_dofs[np.argmax(clash)])
        raise ModelError(
            f"phase '{phase.name}': node {dof // 3} DOF {dof % 3} is prescribed to two different values"
        )
    return uniq, all_vals[first]


def connector_geometry(
    model: AnalysisModel, backend: str = "sfepy"
) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions (C, 3) from node_a to node_b and stiffnesses (C,) (N/mm) of the connectors."""
    dirs = np.zeros((len(model.connectors), 3))
    for i, c in enumerate(model.connectors):
        if c.law not in ("linear", "tension_only"):
            raise UnsupportedFeature(
                f"backend '{backend}' cannot express connector.{c.law} ('{c.name}')"
            )
        d = model.nodes[c.node_b] - model.nodes[c.node_a]
        length = float(np.linalg.norm(d))
        if length <= 0.0:
            raise ModelError(f"connector '{c.name}' joins coincident nodes; give it a direction")
        dirs[i] = d / length
    return dirs, np.array([c.stiffness for c in model.connectors], dtype=np.float64)


def spring_matrix(
    model: AnalysisModel, active: np.ndarray, dirs: np.ndarray, k: np.ndarray
) -> sp.csr_matrix:
    """Global stiffness (N/mm) of the axial springs: k n n^T blocks on (a, a), (b, b), -(a, b) for
    the ``active`` ones, and explicit zeros in the same places for the others, so that the
    sparsity pattern does not depend on the active set (PARDISO then reuses its analysis)."""
    rows, cols, vals = [], [], []
    local = np.arange(3)
    for i, c in enumerate(model.connectors):
        block = (k[i] if active[i] else 0.0) * np.outer(dirs[i], dirs[i])
        for p, q, sign in ((c.node_a, c.node_a, 1), (c.node_b, c.node_b, 1),
                           (c.node_a, c.node_b, -1), (c.node_b, c.node_a, -1)):  # fmt: skip
            rows.append(np.repeat(3 * p + local, 3))
            cols.append(np.tile(3 * q + local, 3))
            vals.append(sign * block.ravel())
    n = 3 * model.n_nodes
    if not rows:
        return sp.csr_matrix((n, n))
    # built from COO: duplicates are summed and zeros kept (a sum of CSR matrices would drop them)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )


def constrained_system(
    Kt: sp.csr_matrix, fixed: np.ndarray, springs: sp.csr_matrix | None = None
) -> tuple[sp.csr_matrix, float]:
    """``Kt`` (+ ``springs``) with prescribed rows/columns replaced by ``d * I`` (d = mean free
    diagonal): same size, still SPD, 3 DOFs per node (so AMG can block it 3x3). The pattern is the
    union of both patterns, explicit zeros included."""
    keep = np.ones(Kt.shape[0], dtype=bool)
    keep[fixed] = False
    parts = [Kt.tocoo()] + ([springs.tocoo()] if springs is not None else [])
    diag = sum(m.diagonal() for m in parts)
    d = float(np.mean(diag[keep])) if np.any(keep) else 1.0
    row = np.concatenate([m.row for m in parts])
    col = np.concatenate([m.col for m in parts])
    val = np.concatenate([m.data for m in parts])
    mask = keep[row] & keep[col]
    rows = np.concatenate([row[mask], fixed])
    cols = np.concatenate([col[mask], fixed])
    vals = np.concatenate([val[mask], np.full(len(fixed), d)])
    return sp.csr_matrix((vals, (rows, cols)), shape=Kt.shape), d


@dataclass
class _PhaseState:
    phase: Phase
    f: np.ndarray
    fixed: np.ndarray
    values: np.ndarray
    active: tuple[bool, ...]
    solves: int = 0


def solve_phases(
    model: AnalysisModel,
    K: Any,
    unit_pressure: dict[str, np.ndarray],
    profile: SolverProfile,
    *,
    assemble: Assemble | None = None,
    factorize: Factorize | None = None,
    backend: str = "sfepy",
) -> tuple[dict[str, PhaseResult], dict[str, Any]]:
    """Solve every phase; one factorisation per distinct (fixed-DOF set, active connectors) per round.

    Tension-only connectors start active; after each solve, compressed ones are dropped and
    stretched ones re-added until the set is stable (``profile.max_active_set_iterations`` solves).
    ``info`` records the factorisation count, each solver run, and per phase the final active set,
    the number of solves and the connector forces (N, positive in tension). The phases that share
    a factorisation are solved together (one block of right-hand sides) when the factorisation
    says it solves blocks (``solves_blocks``).
    """
    method = linsolve.resolve_method(profile.linear_solver)
    dirs, k = connector_geometry(model, backend)
    pending: dict[str, _PhaseState] = {}
    for ph in model.phases:
        fixed, values = phase_constraints(model, ph)
        f = phase_rhs(model, ph, unit_pressure)
        pending[ph.name] = _PhaseState(ph, f, fixed, values, (True,) * len(model.connectors))
    results: dict[str, PhaseResult] = {}
    info: dict[str, Any] = {"linear_solver": method, "n_dof": K.shape[0], "factorizations": 0,
                            "solver_runs": [], "active_set": {}, "active_set_solves": {},
                            "connector_force": {}}  # fmt: skip
    while pending:
        groups: dict[tuple[bytes, tuple[bool, ...]], list[_PhaseState]] = {}
        for st in pending.values():
            groups.setdefault((st.fixed.tobytes(), st.active), []).append(st)
        for (_, active), states in groups.items():
            on = np.array(active, dtype=bool)
            if assemble is None:
                S = spring_matrix(model, on, dirs, k)
                Kt: Any = sp.csr_matrix(K + S)
                A, d = constrained_system(K, states[0].fixed, S)
            else:
                A, Kt, d = assemble(on, states[0].fixed)
            try:
                if factorize is None:
                    fac = linsolve.factorize(A, method, profile.threads, profile.rtol,
                                             profile.max_iterations, near_nullspace_coords=model.nodes)  # fmt: skip
                else:
                    fac = factorize(A)
            except SolveError as exc:
                names = ", ".join(st.phase.name for st in states)
                raise SolveError(f"phase(s) {names}: {exc}") from None
            info["factorizations"] += 1
            solved = _solve_group(Kt, fac, d, states, profile.rtol)
            for st, (u, res) in zip(states, solved, strict=True):
                st.solves += 1
                force = k * np.einsum("ij,ij->i", dirs, _conn_delta(model, u))
                tol = 1e-9 * max(float(np.max(np.abs(u))), 1e-300) * k
                new = tuple(bool(c.law != "tension_only" or fc > t)
                            for c, fc, t in zip(model.connectors, force, tol, strict=True))  # fmt: skip
                name = st.phase.name
                if new == st.active:
                    r = Kt @ u - st.f
                    reaction = np.bincount(st.fixed % 3, weights=r[st.fixed], minlength=3)
                    results[name] = PhaseResult(name, np.zeros(0), displacement=u.reshape(-1, 3),
                                                residual=res, reaction=reaction)  # fmt: skip
                    conns = list(zip(model.connectors, new, force, strict=True))
                    info["active_set"][name] = [c.name for c, a, _ in conns if a]
                    info["connector_force"][name] = {
                        c.name: float(fc) if a else 0.0 for c, a, fc in conns
                    }
                    info["active_set_solves"][name] = st.solves
                    del pending[name]
                elif st.solves >= profile.max_active_set_iterations:
                    raise SolveError(
                        f"phase '{name}': tension-only connectors found no stable active set in "
                        f"{st.solves} solves; raise max_active_set_iterations in the solver profile"
                    )
                else:
                    st.active = new
            info["solver_runs"].append({**fac.info, "phases": [st.phase.name for st in states]})
            del fac
    return {ph.name: results[ph.name] for ph in model.phases}, info


def _conn_delta(model: AnalysisModel, u: np.ndarray) -> np.ndarray:
    uu = u.reshape(-1, 3)
    a = np.array([c.node_a for c in model.connectors], dtype=np.int64)
    b = np.array([c.node_b for c in model.connectors], dtype=np.int64)
    return uu[b] - uu[a]


def _solve_group(
    Kt: Any, fac: linsolve.Factorization, d: float, states: list[_PhaseState], rtol: float
) -> list[tuple[np.ndarray, float]]:
    """Displacements (IR DOF order) of the phases that share ``fac`` and their relative residuals
    on the free DOFs F: ||(K u - f)_F|| / ||f_F - K_FP u_P|| (the right-hand side the solver saw;
    P = prescribed)."""
    n = Kt.shape[0]
    rhs = []
    for st in states:
        up = np.zeros(n)
        up[st.fixed] = st.values
        b = st.f - Kt @ up
        b[st.fixed] = d * st.values
        rhs.append(b)
    if getattr(fac, "solves_blocks", False) and len(rhs) > 1:
        try:
            X = np.asarray(fac.solve(np.column_stack(rhs)))
        except SolveError as exc:
            names = ", ".join(f"'{st.phase.name}'" for st in states)
            raise SolveError(f"phases {names}: {exc}") from None
        sols = [X[:, j].copy() for j in range(len(rhs))]
    else:
        sols = []
        for st, b in zip(states, rhs, strict=True):
            try:
                sols.append(np.asarray(fac.solve(b)))
            except SolveError as exc:
                raise SolveError(f"phase '{st.phase.name}': {exc}") from None
    out = []
    for st, b, u in zip(states, rhs, sols, strict=True):
        u[st.fixed] = st.values
        free = np.ones(n, dtype=bool)
        free[st.fixed] = False
        r = (Kt @ u - st.f)[free]
        nb = float(np.linalg.norm(b[free]))
        res = float(np.linalg.norm(r)) / nb if nb > 0 else float(np.linalg.norm(r))
        if not np.isfinite(res) or res > rtol:
            raise SolveError(
                f"phase '{st.phase.name}': relative residual {res:.2e} exceeds rtol {rtol:.0e} with "
                f"linear solver '{fac.method}'; the model may be under-constrained, or use "
                "linear_solver = 'pardiso'"
            )
        out.append((u, res))
    return out
