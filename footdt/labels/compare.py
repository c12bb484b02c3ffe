"""Cross-backend agreement of labels: match rows of two backends and check relative differences.

Rows are matched on (subject, trial, phase, bone, stat). The relative difference of a pair is
``|a - b| / max(|b|, atol)`` (``b`` is the reference backend, ``atol`` in MPa keeps near-zero
values from dividing by zero); a pair is ok when it is ``<= rtol`` of its statistic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from footdt.labels.store import Filter, LabelStore

MATCH_KEY: tuple[str, ...] = ("subject", "trial", "phase", "bone", "stat")


@dataclass(frozen=True)
class ComparedRow:
    """One matched pair: values of backend a and b (MPa), their relative difference and tolerance."""

    subject: str
    trial: str
    phase: str
    bone: str
    stat: str
    a: float
    b: float
    rel_diff: float
    tol: float
    ok: bool

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """(subject, trial, phase, bone, stat)."""
        return (self.subject, self.trial, self.phase, self.bone, self.stat)


@dataclass
class Comparison:
    backend_a: str
    backend_b: str
    atol: float
    rows: list[ComparedRow] = field(default_factory=list)
    missing_in_a: list[dict[str, str]] = field(default_factory=list)  # keys b has and a lacks
    missing_in_b: list[dict[str, str]] = field(default_factory=list)

    @property
    def failures(self) -> list[ComparedRow]:
        return [r for r in self.rows if not r.ok]

    @property
    def ok(self) -> bool:
        """Something was compared and every compared pair is within its tolerance."""
        return bool(self.rows) and not self.failures

    def max_rel_diff(self) -> float | None:
        return max((r.rel_diff for r in self.rows), default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict with stable keys (NaN relative differences become null)."""
        worst = self.max_rel_diff()
        return {
            "backend_a": self.backend_a,
            "backend_b": self.backend_b,
            "atol": self.atol,
            "ok": self.ok,
            "compared": len(self.rows),
            "failed": len(self.failures),
            "max_rel_diff": None if worst is None or math.isnan(worst) else worst,
            "rows": [_finite(asdict(r)) for r in self.rows],
            "missing_in_a": self.missing_in_a,
            "missing_in_b": self.missing_in_b,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _finite(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def tolerance_for(rtol: float | Mapping[str, float], stat: str) -> float:
    """The relative tolerance of ``stat``: a number, or ``rtol[stat]``, else ``rtol['default']``."""
    if not isinstance(rtol, Mapping):
        return float(rtol)
    if stat in rtol:
        return float(rtol[stat])
    if "default" in rtol:
        return float(rtol["default"])
    raise ValueError(f"no tolerance for statistic {stat!r}: give rtol[{stat!r}] or rtol['default']")


def compare(
    store: LabelStore,
    backend_a: str,
    backend_b: str,
    rtol: float | Mapping[str, float],
    atol: float = 1e-6,
    **filters: Filter,
) -> Comparison:
    """Compare the labels of ``backend_a`` with those of ``backend_b`` (the reference).

    ``filters`` are those of ``LabelStore.query`` except ``backend``.
    """
    if "backend" in filters:
        raise ValueError("compare() selects the backends itself; do not pass a backend filter")
    tols = rtol.values() if isinstance(rtol, Mapping) else [rtol]
    if any(not t >= 0 for t in tols) or not atol > 0:
        raise ValueError(f"tolerances must be >= 0 and atol > 0 (rtol={rtol}, atol={atol})")
    rows_a = {
        tuple(getattr(r, k) for k in MATCH_KEY): r
        for r in store.query(backend=backend_a, **filters)
    }
    rows_b = {
        tuple(getattr(r, k) for k in MATCH_KEY): r
        for r in store.query(backend=backend_b, **filters)
    }
    out = Comparison(backend_a, backend_b, atol)
    for key in sorted(rows_a.keys() & rows_b.keys()):
        a, b = rows_a[key].value_mpa, rows_b[key].value_mpa
        rel = abs(a - b) / max(abs(b), atol)
        subject, trial, phase, bone, stat = key
        tol = tolerance_for(rtol, stat)
        out.rows.append(
            ComparedRow(subject, trial, phase, bone, stat, a, b, rel, tol, ok=bool(rel <= tol))
        )
    out.missing_in_a = [
        dict(zip(MATCH_KEY, k, strict=True)) for k in sorted(rows_b.keys() - rows_a.keys())
    ]
    out.missing_in_b = [
        dict(zip(MATCH_KEY, k, strict=True)) for k in sorted(rows_a.keys() - rows_b.keys())
    ]
    return out
