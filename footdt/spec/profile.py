"""Solver profiles (solvers/*.toml): which backend, linear solver, tolerances, threads, executable."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SolverProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
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
    rtol: float = Field(1e-8, gt=0, lt=1, description="Relative residual a solve must reach.")
    max_iterations: int = Field(2000, gt=0, description="Iterative solvers only.")
    threads: int = Field(0, ge=0, description="Threads for the linear solver; 0 = all cores.")
    executable: str | None = Field(
        None, description="Solver executable (ccx, abaqus); default from PATH."
    )
    max_active_set_iterations: int = Field(
        30, gt=0, description="Tension-only connectors: active-set iterations before giving up."
    )


def default_profile(backend: str) -> SolverProfile:
    return SolverProfile(name=f"{backend}-default", backend=backend)


def load_profile(path: str | Path) -> SolverProfile:
    from footdt.spec.loader import read_data

    p = Path(path)
    data, source = read_data(p)
    data.setdefault("name", p.stem)
    try:
        return SolverProfile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        raise source.error(loc, err["msg"]) from None
