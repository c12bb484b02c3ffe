"""Solver profiles (solvers/*.toml): which backend, linear solver, tolerances, threads, executable."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from footdt.spec.fields import Name, count, quantity

if TYPE_CHECKING:
    Rtol = float
    Iterations = int
    Threads = int
    ActiveSetIterations = int
else:
    Rtol = quantity("1", gt=0, lt=1, hint="a relative residual such as 1e-8")
    Iterations = count(ge=1, le=10_000_000, unit="iterations")
    Threads = count(ge=0, le=4096, unit="threads", hint="0 uses every core")
    ActiveSetIterations = count(ge=1, le=10000, unit="iterations")


class SolverProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name = "default"
    backend: Literal["sfepy", "calculix", "abaqus", "native"]
    linear_solver: Literal[
        "pardiso", "amg", "superlu", "spooles", "iterative_cholesky", "default"
    ] = Field(
        "default",
        description="sfepy: pardiso (direct, default) | amg (low memory) | superlu (small models only); "
        "native: pardiso (direct, factorisation kept for the next model of the same mesh topology, "
        "default) | amg | superlu; "
        "calculix: spooles (default) | iterative_cholesky; abaqus: default.",
    )
    rtol: Rtol = Field(1e-8, description="Relative residual a solve must reach.")
    max_iterations: Iterations = Field(2000, description="Iterative solvers only.")
    threads: Threads = Field(0, description="Threads for the linear solver; 0 = all cores.")
    executable: str | None = Field(
        None,
        min_length=1,
        max_length=4096,
        description="Solver executable (ccx, abaqus); default from PATH.",
    )
    max_active_set_iterations: ActiveSetIterations = Field(
        30, description="Tension-only connectors: active-set iterations before giving up."
    )

    @field_validator("linear_solver")
    @classmethod
    def _solver_of_backend(cls, solver: str, info: ValidationInfo) -> str:
        backend = info.data.get("backend")
        allowed = _SOLVERS.get(str(backend))
        if allowed is not None and solver not in allowed:
            raise ValueError(
                f"'{solver}' is not a {backend} linear solver; use one of {', '.join(allowed)}"
            )
        return solver


_SOLVERS = {
    "sfepy": ("default", "pardiso", "amg", "superlu"),
    "native": ("default", "pardiso", "amg", "superlu"),
    "calculix": ("default", "spooles", "iterative_cholesky"),
    "abaqus": ("default",),
}


def default_profile(backend: str) -> SolverProfile:
    return SolverProfile(name=f"{backend}-default", backend=backend)


def load_profile(path: str | Path) -> SolverProfile:
    """Read and validate a solver profile; errors read ``file:line: field: message``."""
    from footdt.spec.loader import read_data, validate_model

    p = Path(path)
    data, source = read_data(p)
    if "name" not in data:
        data["name"] = p.stem if _NAME.match(p.stem) else "profile"
    return validate_model(SolverProfile, data, source, kind="solver profile")


_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")
