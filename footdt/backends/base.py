"""The backend protocol: capabilities as data; availability, prepare, run and extract as separate calls.

A backend is one small class. ``solve()`` here is the only driver: it checks availability and
capabilities before anything runs, then calls prepare -> run -> extract.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from footdt.errors import BackendUnavailable, UnsupportedFeature
from footdt.ir import AnalysisModel, validate
from footdt.results import PhaseResult, SolveResult, make_result
from footdt.spec.profile import SolverProfile, default_profile

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


@dataclass
class Prepared:
    """What ``prepare`` produced: the working directory, files written, and any state for ``run``."""

    model: AnalysisModel
    workdir: Path
    profile: SolverProfile
    files: dict[str, Path] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


class Backend:
    """Base class of every backend. Subclasses set ``name``/``capabilities`` and implement the hooks."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]]
    install_hint: ClassVar[str] = ""

    def availability(self) -> Availability:  # pragma: no cover - overridden
        raise NotImplementedError

    def version(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

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

    def prepare(self, model: AnalysisModel, workdir: Path, profile: SolverProfile) -> Prepared:
        raise NotImplementedError  # pragma: no cover

    def run(self, prepared: Prepared) -> None:
        raise NotImplementedError  # pragma: no cover

    def extract(self, prepared: Prepared) -> SolveResult:
        raise NotImplementedError  # pragma: no cover

    def make_result(
        self,
        model: AnalysisModel,
        element_volume: np.ndarray,
        phases: dict[str, PhaseResult],
        info: dict[str, Any] | None = None,
    ) -> SolveResult:
        """A ``SolveResult`` carrying the model's identity (subject, trial, hashes) and ours."""
        return make_result(model, self.name, self.version(), element_volume, phases, info)

    # ------------------------------------------------------------------ driver
    def check(self, model: AnalysisModel) -> None:
        reasons = self.unsupported(model)
        if reasons:
            raise UnsupportedFeature("; ".join(reasons))

    def solve(
        self, model: AnalysisModel, workdir: str | Path, profile: SolverProfile | None = None
    ) -> SolveResult:
        avail = self.availability()
        if not avail:
            raise BackendUnavailable(f"backend '{self.name}' is not available: {avail.reason}")
        validate(model)  # the IR's invariants, in one place for every backend
        self.check(model)
        profile = profile or default_profile(self.name)
        start = time.perf_counter()
        prepared = self.prepare(model, Path(workdir), profile)
        self.run(prepared)
        return self.extract(prepared).timed(time.perf_counter() - start)


class ProgramBackend(Backend):
    """A backend that runs an external program: the profile's ``executable``, else
    ``default_executable`` on PATH. Availability and version look for that program."""

    default_executable: ClassVar[str]

    def __init__(self) -> None:
        self._executable: str | None = None

    @property
    def program(self) -> str:
        return self._executable or self.default_executable

    def _find(self) -> str | None:
        return shutil.which(self.program)

    def availability(self) -> Availability:
        if self._find():
            return Availability(True)
        return Availability(False, f"{self.program} not found: {self.install_hint}")

    def solve(
        self, model: AnalysisModel, workdir: str | Path, profile: SolverProfile | None = None
    ) -> SolveResult:
        profile = profile or default_profile(self.name)
        self._executable = profile.executable
        return super().solve(model, workdir, profile)


__all__ = ["PhaseResult", "SolveResult"]  # they live in footdt.results
