"""Stress labels: reduction of solve results (``reduce``), the store (``store``), agreement (``compare``).

Importing this package is cheap (numpy only); SQLAlchemy and pandas load when a store is opened.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from footdt.labels.reduce import LABEL_FIELDS, LabelRow, reduce_result

if TYPE_CHECKING:
    from footdt.ir import AnalysisModel
    from footdt.labels.compare import Comparison, compare
    from footdt.labels.schema import SolveRecord
    from footdt.labels.store import LabelStore
    from footdt.results import SolveResult

_LAZY = {
    "LabelStore": "footdt.labels.store",
    "SolveRecord": "footdt.labels.schema",
    "compare": "footdt.labels.compare",
    "Comparison": "footdt.labels.compare",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'footdt.labels' has no attribute {name!r}")


def store_result(
    store_url: str | os.PathLike[str],
    result: SolveResult,
    model: AnalysisModel,
    *,
    solve_id: str | None = None,
) -> list[LabelRow]:
    """Reduce ``result`` (solved from ``model``) to label rows, put them with their solve record, return them."""
    from footdt.labels.schema import SolveRecord
    from footdt.labels.store import LabelStore

    rows = reduce_result(result, model, solve_id=solve_id)
    if rows:
        record = SolveRecord.from_result(result, rows[0].solve_id)
        with LabelStore(store_url) as store:
            store.put(rows, solve=record)
    return rows


__all__ = [
    "LABEL_FIELDS",
    "Comparison",
    "LabelRow",
    "LabelStore",
    "SolveRecord",
    "compare",
    "reduce_result",
    "store_result",
]
