"""The fast open backend: footdt's own vectorised kernel (``footdt.fem``) + PARDISO, factor once
per cohort.

``prepare`` assembles the stiffness in 3x3 node blocks into a sparsity pattern built once per mesh
topology (``footdt.fem.assembly``) and the unit pressure loads; ``run`` solves the phases with
``footdt.fem.statics`` (nodal forces, connectors k n n^T with the tension-only active set,
prescribed DOFs, residual check) and evaluates the element stresses of all phases in one pass.

Linear solver (profile ``linear_solver``): ``pardiso``/``default`` factorises the first matrix of
a topology in the process and keeps it (``linsolve.KEPT_FACTOR``); every later runner with the same
topology (a morphed cohort in a ``footdt run`` worker) is solved by conjugate gradients
preconditioned with it, its true residual checked to the profile's ``rtol``; past an iteration
bound (``linsolve.KEPT_MAX_ITERATIONS``, or the profile's ``max_iterations`` if lower) that runner
is factorised and its solve record says so (``solver_runs[i].refactorised``). ``amg`` and
``superlu`` work as in the sfepy backend.

Same answers as the sfepy backend (the same linear system, assembled independently) and as
CalculiX on the same mesh; see tests/backends/test_native.py and docs/backends.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from footdt.backends.base import Availability, Backend, Job, PhasesRun
from footdt.ir import AnalysisModel
from footdt.results import SolveResult
from footdt.spec.profile import SolverProfile

if TYPE_CHECKING:
    from footdt.fem.assembly import Discretisation


class NativeOptions(SolverProfile):
    """Options of the native backend (``backend = "native"`` in a profile)."""

    backend: Literal["native"] = "native"
    linear_solver: Literal["default", "pardiso", "amg", "superlu"] = Field(
        "default",
        description="pardiso (direct, factorisation kept for the next model of the same mesh "
        "topology, default) | amg | superlu",
    )


@dataclass(frozen=True, kw_only=True)
class NativeJob(Job):
    """The model discretised by footdt's kernel (``footdt.fem.assembly.Discretisation``)."""

    disc: Discretisation
    assemble_time: float


class NativeBackend(Backend[NativeOptions, NativeJob, PhasesRun]):
    """Linear elasticity on linear or quadratic tetrahedra with footdt's own kernel."""

    name = "native"
    options_type = NativeOptions
    capabilities = frozenset(
        {
            "element.tetra",
            "element.tetra10",
            "connector.linear",
            "connector.tension_only",
            "load.pressure",
            "load.nodal_force",
            "bc.prescribed_displacement",
        }
    )
    install_hint = "numpy and scipy (always installed); pypardiso for the direct solver"

    def availability(self, options: NativeOptions | None = None) -> Availability:
        return Availability(True)

    def version(self, options: NativeOptions | None = None) -> str:
        from footdt import __version__

        return f"footdt-fem {__version__}"

    def prepare(self, model: AnalysisModel, workdir: Path, options: NativeOptions) -> NativeJob:
        from footdt.fem.assembly import Discretisation

        workdir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        disc = Discretisation(model, backend=self.name)
        return NativeJob(model=model, workdir=workdir, options=options, disc=disc,
                         assemble_time=time.perf_counter() - start)  # fmt: skip

    def run(self, job: NativeJob) -> PhasesRun:
        from footdt.backends import linsolve
        from footdt.fem.statics import solve_phases
        from footdt.mechanics import von_mises

        model, options, disc = job.model, job.options, job.disc
        start = time.perf_counter()
        method = linsolve.resolve_method(options.linear_solver)
        label = {"subject": model.subject, "trial": model.trial, "mesh_hash": model.mesh_hash()}
        assemble = _Assembler(model, disc)

        def factorize(A: linsolve.UpperSymmetric) -> linsolve.Factorization:
            if method == "pardiso":
                return linsolve.factorize_kept(A, options.threads, options.rtol,
                                               options.max_iterations, label)  # fmt: skip
            return linsolve.factorize(A.full(), method, options.threads, options.rtol,
                                      options.max_iterations, near_nullspace_coords=model.nodes)  # fmt: skip

        results, info = solve_phases(
            model, assemble.K, disc.unit_pressure, options, assemble=assemble,
            factorize=factorize, backend=self.name,
        )  # fmt: skip
        solved = time.perf_counter()
        fields = [res.displacement.ravel() for res in results.values()]  # type: ignore[union-attr]
        for (name, res), stress in zip(results.items(), disc.stresses(fields), strict=True):
            results[name] = dc_replace(res, stress=stress, von_mises=von_mises(stress))
        end = time.perf_counter()
        timings = {"assemble": job.assemble_time, "solve": solved - start, "stress": end - solved}
        return PhasesRun(wall_time=end - start, info=info, phases=results, timings=timings)

    def extract(self, job: NativeJob, run: PhasesRun) -> SolveResult:
        info = {**run.info, "timings": dict(run.timings), "element": job.model.cell_type}
        return self.make_result(job, job.disc.volumes, run.phases, info)


class _Assembler:
    """The constrained matrix and K (both upper triangles, one pattern whatever the active set or
    the prescribed DOFs) of one (active connectors, fixed DOFs) combination."""

    def __init__(self, model: AnalysisModel, disc: Any) -> None:
        from footdt.fem.statics import connector_geometry

        self.model, self.disc = model, disc
        topo = disc.topology
        self.dirs, self.k = connector_geometry(model, "native")
        keys = topo.block_p * topo.n_nodes + topo.block_q
        a = np.array([c.node_a for c in model.connectors], dtype=np.int64)
        b = np.array([c.node_b for c in model.connectors], dtype=np.int64)
        self.diag_a = np.searchsorted(keys, a * topo.n_nodes + a)
        self.diag_b = np.searchsorted(keys, b * topo.n_nodes + b)
        n = topo.n_dof
        self.K = sp.csr_matrix(
            (n, n)
        )  # solve_phases reads only its shape: each system is built here

    def __call__(self, active: np.ndarray, fixed: np.ndarray) -> tuple[Any, Any, float]:
        from footdt.backends import linsolve

        topo = self.disc.topology
        blocks = self.disc.blocks
        if len(self.k):
            blocks = blocks.copy()
            for i in np.flatnonzero(active):
                B = self.k[i] * np.outer(self.dirs[i], self.dirs[i])
                blocks[self.diag_a[i]] += B
                blocks[self.diag_b[i]] += B
                blocks[topo.conn_block[i]] -= B  # symmetric: the same whichever way round
        U = topo.upper(blocks)
        mask = np.zeros(topo.n_dof, dtype=bool)
        mask[fixed] = True
        diag = U.data[topo.diag]
        d = float(np.mean(diag[~mask])) if np.any(~mask) else 1.0
        data = U.data.copy()
        data[mask[topo.rows] | mask[topo.indices]] = 0.0  # explicit zeros: the pattern stays
        data[topo.diag[fixed]] = d
        A = sp.csr_matrix((data, U.indices, U.indptr), shape=U.shape, copy=False)  # pattern shared
        A.has_sorted_indices = True
        return linsolve.UpperSymmetric(A), linsolve.UpperSymmetric(U), d
