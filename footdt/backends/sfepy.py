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
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from footdt.backends.base import Availability, Backend, Job, PhasesRun
from footdt.errors import ModelError, UnsupportedFeature
from footdt.fem.statics import (  # noqa: F401 - moved to footdt.fem.statics, importable from here
    connector_geometry,
    constrained_system,
    phase_constraints,
    phase_rhs,
    solve_phases,
    spring_matrix,
)
from footdt.ir import TET_FACES, AnalysisModel
from footdt.mechanics import tet_volumes, von_mises
from footdt.results import SolveResult
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


class SfepyOptions(SolverProfile):
    """Options of the sfepy backend (``backend = "sfepy"`` in a profile)."""

    backend: Literal["sfepy"] = "sfepy"
    linear_solver: Literal["default", "pardiso", "amg", "superlu"] = Field(
        "default",
        description="pardiso (direct, default) | amg (low memory) | superlu (small models only)",
    )


@dataclass(frozen=True, kw_only=True)
class SfepyJob(Job):
    """The model discretised by SfePy (stiffness, unit pressure loads) and its assembly time (s)."""

    fe: SfepyFE
    assemble_time: float


class SfepyBackend(Backend[SfepyOptions, SfepyJob, PhasesRun]):
    """Linear elasticity with SfePy; linear solver from the options (pardiso | amg | superlu)."""

    name = "sfepy"
    options_type = SfepyOptions
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

    def availability(self, options: SfepyOptions | None = None) -> Availability:
        if importlib.util.find_spec("sfepy") is None:
            return Availability(False, f"SfePy is not installed; {self.install_hint}")
        return Availability(True)

    def version(self, options: SfepyOptions | None = None) -> str:
        import sfepy

        return str(sfepy.__version__)

    def prepare(self, model: AnalysisModel, workdir: Path, options: SfepyOptions) -> SfepyJob:
        workdir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        fe = SfepyFE(model)
        return SfepyJob(model=model, workdir=workdir, options=options, fe=fe,
                        assemble_time=time.perf_counter() - start)  # fmt: skip

    def run(self, job: SfepyJob) -> PhasesRun:
        start = time.perf_counter()
        fe = job.fe
        results, info = solve_phases(job.model, fe.K, fe.unit_pressure, job.options)
        solved = time.perf_counter()
        for name, res in results.items():
            assert res.displacement is not None
            stress = fe.stress(res.displacement.ravel())
            results[name] = dc_replace(res, stress=stress, von_mises=von_mises(stress))
        end = time.perf_counter()
        timings = {"assemble": job.assemble_time, "solve": solved - start, "stress": end - solved}
        return PhasesRun(wall_time=end - start, info=info, phases=results, timings=timings)

    def extract(self, job: SfepyJob, run: PhasesRun) -> SolveResult:
        info = {**run.info, "timings": dict(run.timings)}
        return self.make_result(job, job.fe.volumes, run.phases, info)
