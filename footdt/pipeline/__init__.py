"""Cohort runs: every trial of a cohort through named, content-keyed steps, resumable and parallel.

``run_cohort(cohort_dir, RunOptions(...))`` is ``footdt run``; ``cohort_status`` is ``footdt status``.
Steps (``footdt.pipeline.steps``): compile -> solve -> labels (abaqus: compile -> deck). Run state:
``footdt.pipeline.state``. Executors: a local process pool (``pool``) or Dask (``dask_exec``).
Importing this package is cheap; SQLAlchemy, the backends and Dask load when a run starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from footdt.pipeline.runner import RunOptions, RunReport, run_cohort
    from footdt.pipeline.status import cohort_status
    from footdt.pipeline.steps import Step, solve_steps

_LAZY = {
    "RunOptions": "footdt.pipeline.runner",
    "RunReport": "footdt.pipeline.runner",
    "run_cohort": "footdt.pipeline.runner",
    "cohort_status": "footdt.pipeline.status",
    "Step": "footdt.pipeline.steps",
    "solve_steps": "footdt.pipeline.steps",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'footdt.pipeline' has no attribute {name!r}")


__all__ = ["RunOptions", "RunReport", "Step", "cohort_status", "run_cohort", "solve_steps"]
