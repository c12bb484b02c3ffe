"""Backends: one explicit registration table. No backend imports another.

Adding a backend is one module (its options type, job and run record types, and the backend
class; see footdt/backends/base.py and docs/backends.md) plus one line in ``REGISTRY``."""

from __future__ import annotations

import importlib
from typing import Any

from footdt.backends.base import Availability, Backend, Job, RunRecord
from footdt.errors import FootdtError
from footdt.results import PhaseResult, SolveResult

#: name -> "module:Class". Importing a backend module must stay cheap (solver imports are lazy).
REGISTRY: dict[str, str] = {
    "abaqus": "footdt.backends.abaqus:AbaqusBackend",
    "calculix": "footdt.backends.calculix:CalculixBackend",
    "native": "footdt.backends.native:NativeBackend",
    "sfepy": "footdt.backends.sfepy:SfepyBackend",
}


def backend_class(name: str) -> type[Backend[Any, Any, Any]]:
    """The registered class of backend ``name`` (FootdtError naming the registered ones)."""
    try:
        target = REGISTRY[name]
    except (KeyError, TypeError):
        raise FootdtError(
            f"unknown backend {name!r}; choose one of: {', '.join(REGISTRY)}"
        ) from None
    module, cls = target.split(":")
    found: type[Backend[Any, Any, Any]] = getattr(importlib.import_module(module), cls)
    return found


def get_backend(name: str) -> Backend[Any, Any, Any]:
    return backend_class(name)()


def backends_with(feature: str) -> list[str]:
    """Names of the backends whose capabilities include ``feature``."""
    return [name for name in REGISTRY if feature in backend_class(name).capabilities]


__all__ = [
    "REGISTRY",
    "Availability",
    "Backend",
    "Job",
    "PhaseResult",
    "RunRecord",
    "SolveResult",
    "backend_class",
    "backends_with",
    "get_backend",
]
