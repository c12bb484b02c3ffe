"""The backend contract, in the style of cvxpy's and pyomo's solver interfaces.

A backend is one class with its capabilities as data and three typed calls:

- ``prepare(model, workdir, options) -> Job``: ``options`` are the backend's own options type (a
  ``SolverProfile`` subclass, ``options_type``); the job is a frozen dataclass of the backend's
  own job type, holding the model, the work directory, the options, the files written (by role)
  and whatever ``run`` needs. ``footdt compile --backend X`` is ``prepare``.
- ``run(job) -> RunRecord``: solves; the record (frozen, backend-specific) is what was done.
- ``extract(job, run) -> SolveResult``: the result, made by ``footdt.results.make_result``.

``solve()`` is the only driver: it resolves the options, checks availability, the IR's invariants
and the capabilities before anything runs, then calls prepare -> run -> extract. A backend keeps
no state between calls: whatever a call needs comes in through its arguments.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast

import numpy as np

from footdt.errors import BackendUnavailable, SpecError, UnsupportedFeature
from footdt.ir import AnalysisModel, validate
from footdt.results import PhaseResult, SolveResult, make_result
from footdt.spec.profile import SolverProfile, default_profile, options_for

#: Every capability a backend may declare (features of ``AnalysisModel.features()``).
ALL_CAPABILITIES = frozenset(
    {
        "element.tetra",
        "element.tetra10",
        "connector.linear",
        "connector.tension_only",
        "connector.slip_ring",
        "tie.nonconforming",
        "load.pressure",
        "load.nodal_force",
        "bc.prescribed_displacement",
    }
)


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""  # why not, and what to install

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class Job:
    """What ``prepare`` made: the model, the work directory, the backend's options and the files
    written there by role. A backend's job type adds (keyword-only) what its ``run`` needs."""

    model: AnalysisModel
    workdir: Path
    options: SolverProfile
    files: Mapping[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    """What ``run`` did: its wall time (s) and solver facts for the result's ``info``. A backend's
    record type adds (keyword-only) what its ``extract`` reads."""

    wall_time: float
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PhasesRun(RunRecord):
    """A run of an in-process backend: the phases solved (``info``: the solve record of
    ``footdt.fem.statics.solve_phases``) and the time of each stage (s)."""

    phases: dict[str, PhaseResult]
    timings: Mapping[str, float]


OptionsT = TypeVar("OptionsT", bound=SolverProfile)
JobT = TypeVar("JobT", bound=Job)
RunT = TypeVar("RunT", bound=RunRecord)


class Backend(Generic[OptionsT, JobT, RunT]):
    """Base class of every backend. Subclasses set ``name``, ``capabilities`` and
    ``options_type`` and implement ``availability``, ``version``, ``prepare``, ``run`` and
    ``extract``."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]]
    #: The backend's own options (a ``SolverProfile`` subclass with ``backend: Literal[name]``).
    options_type: ClassVar[type[SolverProfile]]
    install_hint: ClassVar[str] = ""
    #: ``prepare`` writes solver input files (a deck): ``footdt compile --backend`` writes them.
    writes_inputs: ClassVar[bool] = False
    #: Names of the files ``prepare`` writes into the work directory.
    inputs: ClassVar[tuple[str, ...]] = ()

    def availability(self, options: OptionsT | None = None) -> Availability:  # pragma: no cover
        raise NotImplementedError

    def version(self, options: OptionsT | None = None) -> str:  # pragma: no cover
        raise NotImplementedError

    def prepare(self, model: AnalysisModel, workdir: Path, options: OptionsT) -> JobT:
        raise NotImplementedError  # pragma: no cover

    def run(self, job: JobT) -> RunT:
        raise NotImplementedError  # pragma: no cover

    def extract(self, job: JobT, run: RunT) -> SolveResult:
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------------------ options
    def options(self, **values: Any) -> OptionsT:
        """This backend's options from ``values`` (SpecError of one line if they do not fit)."""
        return cast(OptionsT, options_for(self.name, **values))

    def resolve_options(self, options: SolverProfile | None = None) -> OptionsT:
        """``options`` checked to be this backend's (the default options when None)."""
        if options is None:
            return cast(OptionsT, default_profile(self.name))
        if not isinstance(options, self.options_type):
            raise SpecError(
                f"options for backend '{options.backend}' ({options.name}) given to backend "
                f"'{self.name}': use a {self.name} profile"
            )
        return cast(OptionsT, options)

    # ------------------------------------------------------------------ checks
    def unsupported(self, model: AnalysisModel) -> list[str]:
        """Reasons this backend cannot express ``model`` (empty when it can)."""
        from footdt.backends import backends_with

        reasons = []
        for feature, where in model.features().items():
            if feature not in self.capabilities:
                others = [b for b in backends_with(feature) if b != self.name]
                can = (
                    f"use --backend {' or '.join(others)}"
                    if others
                    else "no backend supports it yet"
                )
                reasons.append(
                    f"backend '{self.name}' cannot express {feature} (used by {where}); {can}"
                )
        return reasons

    def check(self, model: AnalysisModel) -> None:
        reasons = self.unsupported(model)
        if reasons:
            raise UnsupportedFeature("; ".join(reasons))

    def make_result(
        self,
        job: Job,
        element_volume: np.ndarray,
        phases: dict[str, PhaseResult],
        info: Mapping[str, Any] | None = None,
    ) -> SolveResult:
        """The job's model's ``SolveResult`` from this backend (``footdt.results.make_result``)."""
        version = self.version(cast(OptionsT, job.options))
        return make_result(job.model, self.name, version, element_volume, phases, dict(info or {}))

    # ------------------------------------------------------------------ driver
    def solve(
        self, model: AnalysisModel, workdir: str | Path, options: SolverProfile | None = None
    ) -> SolveResult:
        opts = self.resolve_options(options)
        avail = self.availability(opts)
        if not avail:
            raise BackendUnavailable(f"backend '{self.name}' is not available: {avail.reason}")
        validate(model)  # the IR's invariants, in one place for every backend
        self.check(model)
        start = time.perf_counter()
        job = self.prepare(model, Path(workdir), opts)
        run = self.run(job)
        return self.extract(job, run).timed(time.perf_counter() - start)


class ProgramBackend(Backend[OptionsT, JobT, RunT]):
    """A backend that runs an external program: the options' ``executable``, else
    ``default_executable`` on PATH. Availability and version look for that program."""

    default_executable: ClassVar[str]

    def program(self, options: SolverProfile | None = None) -> str:
        """The program these options run (their ``executable`` or the default)."""
        if options is not None and options.executable:
            return options.executable
        return self.default_executable

    def find(self, options: SolverProfile | None = None) -> str | None:
        return shutil.which(self.program(options))

    def require(self, options: SolverProfile | None = None) -> str:
        """The program's path (BackendUnavailable with the install hint when it is missing)."""
        exe = self.find(options)
        if exe is None:
            raise BackendUnavailable(f"{self.program(options)} not found: {self.install_hint}")
        return exe

    def availability(self, options: OptionsT | None = None) -> Availability:
        if self.find(options):
            return Availability(True)
        return Availability(False, f"{self.program(options)} not found: {self.install_hint}")


__all__ = [
    "ALL_CAPABILITIES",
    "Availability",
    "Backend",
    "Job",
    "PhaseResult",  # lives in footdt.results
    "PhasesRun",
    "ProgramBackend",
    "RunRecord",
    "SolveResult",  # lives in footdt.results
]
