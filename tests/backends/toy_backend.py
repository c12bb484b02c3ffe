"""A toy backend: the whole of what adding a backend takes (docs/backends.md shows this file).

It knows one answer, the uniaxial stress of a bar pressed on one end (sigma_xx = -P in every
element), and nothing else; a real backend assembles and solves in ``run``. Register it with one
line in ``footdt.backends.REGISTRY``: ``"toy": "tests.backends.toy_backend:ToyBackend"``.
"""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from footdt.backends.base import Availability, Backend, Job, RunRecord
from footdt.ir import AnalysisModel
from footdt.mechanics import tet_volumes, von_mises
from footdt.results import PhaseResult, SolveResult
from footdt.spec.profile import SolverProfile


class ToyOptions(SolverProfile):
    """``backend = "toy"`` in a solver profile; its own linear solvers, nobody else's."""

    backend: Literal["toy"] = "toy"
    linear_solver: Literal["default", "exact"] = Field("default", description="default | exact")


@dataclass(frozen=True, kw_only=True)
class ToyJob(Job):
    """What ``prepare`` made, and ``run`` needs: the element volumes."""

    volumes: np.ndarray


@dataclass(frozen=True, kw_only=True)
class ToyRun(RunRecord):
    """What ``run`` did: one result per phase."""

    phases: dict[str, PhaseResult]


class ToyBackend(Backend[ToyOptions, ToyJob, ToyRun]):
    name = "toy"
    options_type = ToyOptions
    capabilities = frozenset({"element.tetra", "load.pressure", "bc.prescribed_displacement"})

    def availability(self, options: ToyOptions | None = None) -> Availability:
        return Availability(True)

    def version(self, options: ToyOptions | None = None) -> str:
        return "0.1"

    def prepare(self, model: AnalysisModel, workdir: Path, options: ToyOptions) -> ToyJob:
        workdir.mkdir(parents=True, exist_ok=True)
        volumes = tet_volumes(model.nodes, model.elements)
        return ToyJob(model=model, workdir=workdir, options=options, volumes=volumes)

    def run(self, job: ToyJob) -> ToyRun:
        start = time.perf_counter()
        phases = {}
        for phase in job.model.phases:
            stress = np.zeros((job.model.n_elements, 6))
            stress[:, 0] = -max((p.value for p in phase.pressures), default=0.0)
            phases[phase.name] = PhaseResult(phase.name, von_mises(stress), stress)
        return ToyRun(wall_time=time.perf_counter() - start, phases=phases)

    def extract(self, job: ToyJob, run: ToyRun) -> SolveResult:
        info = {"linear_solver": job.options.linear_solver}
        return self.make_result(job, job.volumes, run.phases, info)
