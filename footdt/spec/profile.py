"""Solver options: what every backend's options share, and how a profile (solvers/*.toml) becomes
the options of the backend it names.

Each backend has its own options type (``SfepyOptions`` in ``footdt/backends/sfepy.py``, ...), a
subclass of ``SolverProfile`` that fixes ``backend`` and lists the backend's linear solvers as the
``Literal`` of ``linear_solver``. There is no global list of backends or solvers here: the backend
named in a profile is looked up in the registry (``footdt.backends.REGISTRY``) and its type
validates, so another backend's solver is refused in one line that names the valid ones.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from footdt.errors import SpecError
from footdt.spec.fields import Name, count, describe, quantity

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
    """The options every backend's options type shares (the keys of solvers/*.toml).

    Abstract: make options with ``options_for(backend, ...)``, ``load_profile(path)`` or a
    backend's own type (``SfepyOptions(linear_solver="amg")``). A backend's type sets
    ``backend: Literal[name] = name`` and ``linear_solver: Literal[...]``; keys a backend does not
    use (``rtol`` for CalculiX, ``executable`` for the in-process backends) are accepted and ignored.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name = "default"
    backend: str
    linear_solver: str = Field("default", description="The backend's linear solver.")
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

    @classmethod
    def backend_name(cls) -> str:
        """The backend these options are for ("" for the abstract base)."""
        default = cls.model_fields["backend"].default
        return default if isinstance(default, str) else ""

    @classmethod
    def linear_solvers(cls) -> tuple[str, ...]:
        """The backend's linear solvers (the ``Literal`` of ``linear_solver``)."""
        return tuple(str(a) for a in typing.get_args(cls.model_fields["linear_solver"].annotation))

    @field_validator("backend", mode="before")
    @classmethod
    def _this_backend(cls, value: Any) -> Any:
        own = cls.backend_name()
        if not own:
            from footdt.backends import REGISTRY

            if not isinstance(value, str) or value not in REGISTRY:
                raise ValueError(
                    f"unknown backend {_shown(value)}; choose one of: {', '.join(REGISTRY)}"
                )
            raise ValueError(
                f"SolverProfile is abstract: make {value} options with "
                f"footdt.spec.profile.options_for({value!r}, ...)"
            )
        if value != own:
            raise ValueError(f"these are {own} options, not {_shown(value)} ones")
        return value

    @field_validator("linear_solver", mode="before")
    @classmethod
    def _solver_of_backend(cls, value: Any) -> Any:
        own, allowed = cls.backend_name(), cls.linear_solvers()
        if own and value not in allowed:
            raise ValueError(
                f"{_shown(value)} is not {'an' if own[:1] in 'aeiou' else 'a'} {own} linear solver; "
                f"use one of {', '.join(allowed)}"
            )
        return value


def _shown(value: Any) -> str:
    """A user's value in a message: a name quoted (at most 40 characters), anything else described."""
    return repr(value[:40]) if isinstance(value, str) else describe(value)


def options_type(backend: str) -> type[SolverProfile]:
    """The options type of ``backend`` (FootdtError naming the registered ones if unknown)."""
    from footdt.backends import backend_class

    return backend_class(backend).options_type


def options_for(backend: str, **values: Any) -> SolverProfile:
    """``backend``'s own options from ``values``; a SpecError of one line if they do not fit."""
    cls = options_type(backend)
    try:
        return cls(**{"backend": backend, **values})
    except ValidationError as exc:
        raise SpecError(f"{backend} options: {one_line(exc)}") from None


def one_line(exc: ValidationError) -> str:
    """A pydantic error as one line: ``field: message; field: message``."""
    parts = []
    for err in exc.errors():
        msg = str(err["msg"]).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def default_profile(backend: str) -> SolverProfile:
    return options_for(backend, name=f"{backend}-default")


def load_profile(path: str | Path) -> SolverProfile:
    """Read a solver profile and validate it as the options of the backend it names; errors read
    ``file:line: field: message``."""
    from footdt.backends import REGISTRY
    from footdt.spec.loader import read_data, validate_model

    p = Path(path)
    data, source = read_data(p)
    if "name" not in data:
        data["name"] = p.stem if _NAME.match(p.stem) else "profile"
    backend = data.get("backend")
    model = (
        options_type(backend) if isinstance(backend, str) and backend in REGISTRY else SolverProfile
    )
    return validate_model(model, data, source, kind="solver profile")


_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")
