"""Backends: one explicit registration table. No backend imports another."""

from __future__ import annotations

import importlib

from footdt.backends.base import Availability, Backend, PhaseResult, Prepared, SolveResult
from footdt.errors import FootdtError

#: name -> "module:Class". Importing a backend module must stay cheap (solver imports are lazy).
REGISTRY: dict[str, str] = {
    "abaqus": "footdt.backends.abaqus:AbaqusBackend",
    "calculix": "footdt.backends.calculix:CalculixBackend",
    "native": "footdt.backends.native:NativeBackend",
    "sfepy": "footdt.backends.sfepy:SfepyBackend",
}


def get_backend(name: str) -> Backend:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise FootdtError(
            f"unknown backend {name!r}; choose one of: {', '.join(REGISTRY)}"
        ) from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)()


def backends_with(feature: str) -> list[str]:
    """Names of the backends whose capabilities include ``feature``."""
    out = []
    for name, target in REGISTRY.items():
        module, cls = target.split(":")
        if feature in getattr(importlib.import_module(module), cls).capabilities:
            out.append(name)
    return out


__all__ = [
    "REGISTRY",
    "Availability",
    "Backend",
    "PhaseResult",
    "Prepared",
    "SolveResult",
    "backends_with",
    "get_backend",
]
