"""The open backend: SfePy discretises, footdt's own linear algebra solves.

SfePy assembles the full stiffness matrix (every DOF, no essential BCs) with ``dw_lin_elastic``
(one term per material), one load vector per pressure surface with ``dw_surface_ltr`` on exactly
the IR's (element, face) pairs, and evaluates element stresses with ``ev_cauchy_stress``
(``el_avg``). Outside SfePy, ``run`` adds nodal forces and connector springs (k n n^T), eliminates
prescribed DOFs (zero or not), and solves with ``footdt.backends.linsolve``: one factorisation per
distinct (fixed-DOF set, active connectors), reused for every phase that shares it. Tension-only
connectors are resolved by an active-set loop. Every solution's residual is checked.

Units: mm, N, MPa. Sign: footdt pressure P > 0 pushes into the body; SfePy's scalar traction acts
along the outward normal, so the load term gets -P.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from footdt.backends import linsolve
from footdt.backends.base import Availability, Backend, PhaseResult, Prepared, SolveResult
from footdt.errors import ModelError, SolveError, UnsupportedFeature
from footdt.ir import TET_FACES, AnalysisModel, Phase
from footdt.mechanics import tet_volumes, von_mises
from footdt.spec.profile import SolverProfile


@contextlib.contextmanager
def _quiet_sfepy() -> Iterator[None]:
    """Silence SfePy's ``output`` (and stray prints while importing it); restore it afterwards."""
    with contextlib.redirect_stdout(io.StringIO()):
        from sfepy.base.base import output

        saved = output.output_function
        output.set_output(quiet=True)
        import sfepy.discrete.fem  # first import prints about optional jax terms
        import sfepy.terms  # noqa: F401
    try:
        yield
    finally:
        output.output_function = saved


def _face_keys(tris: np.ndarray, n_nodes: int) -> np.ndarray:
    s = np.sort(tris.astype(np.int64), axis=1)
    return (s[:, 0] * n_nodes + s[:, 1]) * n_nodes + s[:, 2]


class SfepyFE:
    """SfePy's discretisation of an IR model: K, unit pressure loads, stress evaluation."""

    def __init__(self, model: AnalysisModel) -> None:
        if model.cell_type != "tetra":
            raise UnsupportedFeature(f"backend 'sfepy' cannot express element.{model.cell_type}")
        if model.n_nodes >= 2_000_000:
            raise ModelError(f"sfepy backend: {model.n_nodes} nodes exceed the 2,000,000 supported")
        # positive volumes and one part per element are IR invariants (ir.validate, run by solve)
        vol = tet_volumes(model.nodes, model.elements)
        part_of = model.element_part()
        self.model = model
        self.volumes = vol
        parts = list(model.parts)
        mat_of = np.array([model.sections[p] for p in parts])[part_of]
        with _quiet_sfepy():
            self._build(mat_of)

    def _build(self, mat_of: np.ndarray) -> None:
        from sfepy.discrete import Equation, Equations, FieldVariable, Integral, Integrals, Material
        from sfepy.discrete import Problem as SfProblem
        from sfepy.discrete.common.region import Region
        from sfepy.discrete.fem import FEDomain, Field, Mesh
        from sfepy.mechanics.matcoefs import stiffness_from_youngpoisson
        from sfepy.terms import Term

        m = self.model
        n = m.n_nodes
        mesh = Mesh.from_data(
            "footdt", m.nodes.astype(np.float64), np.zeros(n, dtype=np.int32),
            [m.elements.astype(np.int32)], [np.zeros(m.n_elements, dtype=np.int32)], ["3_4"],
        )  # fmt: skip
        domain = FEDomain("domain", mesh)
        omega = domain.create_region("Omega", "all")
        field = Field.from_args("displacement", np.float64, "vector", omega, approx_order=1)
        remap = np.asarray(field.vertex_remap)
        if np.any(remap < 0):
            raise ModelError(f"{int(np.sum(remap < 0))} nodes belong to no element; remove them")
        # IR DOF 3*i+c lives at SfePy DOF 3*remap[i]+c (SfePy may renumber field nodes).
        self.perm = (3 * remap[:, None] + np.arange(3)).ravel()
        u = FieldVariable("u", "unknown", field)
        v = FieldVariable("v", "test", field, primary_var_name="u")
        self._u = u
        self._i1, i2 = Integral("i1", order=1), Integral("i2", order=2)
        self._integrals = Integrals([self._i1, i2])

        k_terms, self._mats = [], {}
        for j, name in enumerate(np.unique(mat_of)):
            cells = np.flatnonzero(mat_of == name).astype(np.uint32)
            region = self._add_region(Region.from_cells(cells, domain, name=f"cells{j}"), domain)
            mat = m.materials[str(name)]
            D = stiffness_from_youngpoisson(3, mat.E, mat.nu)
            sf_mat = Material(f"mat{j}", D=D)
            self._mats[region.name] = (sf_mat, np.asarray(region.cells))
            k_terms.append(Term.new(f"dw_lin_elastic(mat{j}.D, v, u)", self._i1, region, v=v, u=u,
                                    **{f"mat{j}": sf_mat}))  # fmt: skip
        equations = [Equation("stiffness", sum(k_terms[1:], k_terms[0]))]

        used = sorted({p.surface for ph in m.phases for p in ph.pressures})
        outward = Material("outward", val=[[1.0]])  # unit traction along the outward normal
        for j, surf in enumerate(used):
            region = self._surface_region(surf, f"surf{j}", domain, Region)
            equations.append(Equation(f"load{j}", Term.new(
                "dw_surface_ltr(outward.val, v)", i2, region, outward=outward, v=v)))  # fmt: skip
        self._pb = SfProblem("footdt", equations=Equations(equations), domain=domain)
        self._pb.time_update()
        self._pb.update_materials()
        eqs = self._pb.equations
        K = eqs["stiffness"].evaluate(mode="weak", dw_mode="matrix", asm_obj=self._pb.mtx_a)
        K = sp.csr_matrix(K)
        if not np.array_equal(self.perm, np.arange(3 * n)):
            K = K[self.perm][:, self.perm]
        self.K = sp.csr_matrix(K)
        self.unit_pressure: dict[str, np.ndarray] = {}
        for j, surf in enumerate(used):
            vec = eqs[f"load{j}"].evaluate(mode="weak", dw_mode="vector", asm_obj=np.zeros(3 * n))
            self.unit_pressure[surf] = -np.asarray(vec)[self.perm]  # P = 1 MPa into the body

    @staticmethod
    def _add_region(region: Any, domain: Any) -> Any:
        region.finalize()
        region.update_shape()
        domain.regions.append(region)
        return region

    def _surface_region(self, surf: str, name: str, domain: Any, Region: Any) -> Any:
        """Facet region of exactly the IR faces of ``surf``, each integrated from its own element."""
        pairs = self.model.surfaces[surf]
        if len(pairs) == 0:
            raise ModelError(f"surface '{surf}' is empty but carries a pressure")
        tris = np.take_along_axis(
            self.model.elements[pairs[:, 0]], np.asarray(TET_FACES)[pairs[:, 1]], 1
        )
        cmesh = domain.cmesh
        cmesh.setup_connectivity(2, 0)
        facet_keys = _face_keys(
            np.asarray(cmesh.get_conn(2, 0).indices).reshape(-1, 3), self.model.n_nodes
        )
        order = np.argsort(facet_keys)
        keys = _face_keys(tris, self.model.n_nodes)
        pos = np.minimum(np.searchsorted(facet_keys[order], keys), len(order) - 1)
        facets = order[pos]
        if not np.array_equal(facet_keys[facets], keys) or len(np.unique(facets)) != len(facets):
            raise ModelError(
                f"surface '{surf}' has faces that are not element faces, or repeats one"
            )
        # The parent region restricts interior facets to the element that owns the IR face.
        owners = np.unique(pairs[:, 0]).astype(np.uint32)
        self._add_region(Region.from_cells(owners, domain, name=f"{name}_owners"), domain)
        region = Region.from_facets(np.sort(facets).astype(np.uint32), domain, name=name,
                                    parent=f"{name}_owners")  # fmt: skip
        self._add_region(region, domain)
        got = region.get_facet_indices()
        if len(got) != len(pairs) or not np.array_equal(np.sort(got[:, 0]), np.sort(pairs[:, 0])):
            raise ModelError(
                f"surface '{surf}': an interior face is owned by two loaded elements; split the surface"
            )
        return region

    def stress(self, u: np.ndarray) -> np.ndarray:
        """(M, 6) element-average Cauchy stress (MPa, xx yy zz xy xz yz) for IR-ordered DOFs ``u``."""
        out = np.full((self.model.n_elements, 6), np.nan)
        u_sf = np.empty_like(u)
        u_sf[self.perm] = u
        self._u.set_data(u_sf)
        with _quiet_sfepy():
            for region, (mat, cells) in self._mats.items():
                s = self._pb.evaluate(
                    f"ev_cauchy_stress.i1.{region}({mat.name}.D, u)", mode="el_avg", u=self._u,
                    copy_materials=False, integrals=self._integrals, verbose=False, **{mat.name: mat},
                )  # fmt: skip
                out[cells] = np.asarray(s).reshape(len(cells), 6)  # SfePy order 11 22 33 12 13 23
        return out


class SfepyBackend(Backend):
    """Linear elasticity with SfePy; linear solver from the profile (pardiso | amg | superlu)."""

    name = "sfepy"
    capabilities = frozenset(
        {
            "element.tetra",
            "connector.linear",
            "connector.tension_only",
            "load.pressure",
            "load.nodal_force",
            "bc.prescribed_displacement",
        }
    )
    install_hint = "pip install sfepy"

    def availability(self) -> Availability:
        if importlib.util.find_spec("sfepy") is None:
            return Availability(False, f"SfePy is not installed; {self.install_hint}")
        return Availability(True)

    def version(self) -> str:
        import sfepy

        return str(sfepy.__version__)

    def prepare(self, model: AnalysisModel, workdir: Path, profile: SolverProfile) -> Prepared:
        workdir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        fe = SfepyFE(model)
        state: dict[str, Any] = {"fe": fe, "timings": {"assemble": time.perf_counter() - start}}
        return Prepared(model=model, workdir=workdir, profile=profile, state=state)

    def run(self, prepared: Prepared) -> None:
        start = time.perf_counter()
        fe: SfepyFE = prepared.state["fe"]
        results, info = solve_phases(prepared.model, fe.K, fe.unit_pressure, prepared.profile)
        prepared.state["timings"]["solve"] = time.perf_counter() - start
        start = time.perf_counter()
        for res in results.values():
            assert res.displacement is not None
            res.stress = fe.stress(res.displacement.ravel())
            res.von_mises = von_mises(res.stress)
        prepared.state["timings"]["stress"] = time.perf_counter() - start
        prepared.state["results"], prepared.state["info"] = results, info

    def extract(self, prepared: Prepared) -> SolveResult:
        model = prepared.model
        fe: SfepyFE = prepared.state["fe"]
        info = dict(prepared.state["info"])
        info["timings"] = dict(prepared.state["timings"])
        return self.make_result(model, fe.volumes, prepared.state["results"], info)


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


def connector_geometry(model: AnalysisModel) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions (C, 3) from node_a to node_b and stiffnesses (C,) (N/mm) of the connectors."""
    dirs = np.zeros((len(model.connectors), 3))
    for i, c in enumerate(model.connectors):
        if c.law not in ("linear", "tension_only"):
            raise UnsupportedFeature(
                f"backend 'sfepy' cannot express connector.{c.law} ('{c.name}')"
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
    K: sp.csr_matrix,
    unit_pressure: dict[str, np.ndarray],
    profile: SolverProfile,
) -> tuple[dict[str, PhaseResult], dict[str, Any]]:
    """Solve every phase; one factorisation per distinct (fixed-DOF set, active connectors) per round.

    Tension-only connectors start active; after each solve, compressed ones are dropped and
    stretched ones re-added until the set is stable (``profile.max_active_set_iterations`` solves).
    ``info`` records the factorisation count, each solver run, and per phase the final active set,
    the number of solves and the connector forces (N, positive in tension).
    """
    method = linsolve.resolve_method(profile.linear_solver)
    dirs, k = connector_geometry(model)
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
            S = spring_matrix(model, np.array(active, dtype=bool), dirs, k)
            Kt = sp.csr_matrix(K + S)
            A, d = constrained_system(K, states[0].fixed, S)
            try:
                fac = linsolve.factorize(A, method, profile.threads, profile.rtol, profile.max_iterations,
                                         near_nullspace_coords=model.nodes)  # fmt: skip
            except SolveError as exc:
                names = ", ".join(st.phase.name for st in states)
                raise SolveError(f"phase(s) {names}: {exc}") from None
            info["factorizations"] += 1
            for st in states:
                u, res = _solve_one(Kt, fac, d, st, profile.rtol)
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


def _solve_one(
    Kt: sp.csr_matrix, fac: linsolve.Factorization, d: float, st: _PhaseState, rtol: float
) -> tuple[np.ndarray, float]:
    """Displacements (IR DOF order) of one phase and its relative residual on the free DOFs F:
    ||(K u - f)_F|| / ||f_F - K_FP u_P|| (the right-hand side the solver saw; P = prescribed)."""
    up = np.zeros(Kt.shape[0])
    up[st.fixed] = st.values
    b = st.f - Kt @ up
    b[st.fixed] = d * st.values
    try:
        u = fac.solve(b)
    except SolveError as exc:
        raise SolveError(f"phase '{st.phase.name}': {exc}") from None
    u[st.fixed] = st.values
    free = np.ones(Kt.shape[0], dtype=bool)
    free[st.fixed] = False
    r = (Kt @ u - st.f)[free]
    nb = float(np.linalg.norm(b[free]))
    res = float(np.linalg.norm(r)) / nb if nb > 0 else float(np.linalg.norm(r))
    if not np.isfinite(res) or res > rtol:
        raise SolveError(
            f"phase '{st.phase.name}': relative residual {res:.2e} exceeds rtol {rtol:.0e} with linear "
            f"solver '{fac.method}'; the model may be under-constrained, or use linear_solver = 'pardiso'"
        )
    return u, res
