"""The one definition of every label statistic: a ``SolveResult`` becomes ``LabelRow`` records.

For each phase of the result and each output part (``model.outputs.parts``; every part when
that tuple is empty) the statistics ``model.outputs.statistics`` of the element von Mises stress
(MPa) are computed with element volumes (mm^3) as weights:

``mean``
    volume-weighted mean, ``sum(V_e * s_e) / sum(V_e)``.
``p95``, ``p99``
    volume-weighted quantile at ``q`` = 0.95, 0.99: the smallest element value ``v`` such that
    the volume fraction of the part's elements with value ``<= v`` is ``>= q``. It is always one
    of the element values (no interpolation). Example: values 1, 2, 3 with volumes 1, 1, 2 have
    cumulative fractions 0.25, 0.5, 1.0, so p95 = p99 = 3 and the 0.5-quantile is 2.
    Cumulative sums are compared with ``q`` up to a relative round-off of 1e-12.
``max``
    the raw maximum element value (not mesh-converged: stress is singular at loads and supports).

Every row of a (phase, part) also carries ``max_on_boundary``: True when an element attaining
the part's maximum has a node in ``model.boundary_nodes(phase)`` (loaded, constrained or
connector nodes), i.e. the max is probably a singularity and ``p99`` is the safer peak.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from footdt.domain import MAX, MEAN, STAT_QUANTILES, STATS
from footdt.errors import ModelError, SolveError

if TYPE_CHECKING:
    from footdt.ir import AnalysisModel
    from footdt.results import SolveResult

#: Volume fraction of each quantile statistic.
QUANTILES: dict[str, float] = STAT_QUANTILES
_ROUND_OFF = 1e-12


@dataclass(frozen=True)
class LabelRow:
    """One label: a statistic (MPa) of one bone (part) in one phase, with its provenance."""

    subject: str
    trial: str
    phase: str
    bone: str
    stat: str
    value_mpa: float
    backend: str
    backend_version: str
    spec_hash: str
    mesh_hash: str
    model_hash: str
    solve_id: str
    wall_time_s: float
    residual: float | None
    max_on_boundary: bool
    created_at: str  # UTC, ISO 8601

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        """The store's unique key: (subject, trial, phase, bone, stat, backend)."""
        return (self.subject, self.trial, self.phase, self.bone, self.stat, self.backend)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict in field order (subject, trial, phase, bone, stat, value_mpa, backend, ...)."""
        return asdict(self)

    as_dict = to_dict


LABEL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(LabelRow))


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """``sum(w * v) / sum(w)`` (weights are element volumes, mm^3)."""
    return float(np.dot(weights, values) / weights.sum())


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest value ``v`` with ``sum(w[values <= v]) >= q * sum(w)`` (see the module docstring)."""
    if not 0.0 < q <= 1.0:
        raise ValueError(f"quantile {q} is outside (0, 1]")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    i = int(np.searchsorted(cum, q * cum[-1] * (1.0 - _ROUND_OFF), side="left"))
    return float(values[order[min(i, len(order) - 1)]])


def statistic(stat: str, values: np.ndarray, weights: np.ndarray) -> float:
    """Value (MPa) of one named statistic of element values weighted by element volumes."""
    if stat == MEAN:
        return weighted_mean(values, weights)
    if stat in QUANTILES:
        return weighted_quantile(values, weights, QUANTILES[stat])
    if stat == MAX:
        return float(values.max())
    raise ModelError(
        f"unknown statistic {stat!r} in the output request; use one of {', '.join(STATS)}"
    )


def result_solve_id(result: SolveResult) -> str:
    """A content address of a result (backend, version, hashes, per-phase stresses, volumes)."""
    h = hashlib.sha256()
    for text in (
        result.backend,
        result.backend_version,
        result.model_hash,
        result.subject,
        result.trial,
    ):
        h.update(text.encode() + b"\0")
    h.update(np.ascontiguousarray(result.element_volume, dtype=np.float64).tobytes())
    for name in sorted(result.phases):
        h.update(name.encode() + b"\0")
        h.update(np.ascontiguousarray(result.phases[name].von_mises, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def _check(result: SolveResult, model: AnalysisModel) -> np.ndarray:
    """Validate that ``result`` belongs to ``model``; return the element volumes (mm^3)."""
    where = f"{result.backend} result for {result.subject}/{result.trial}"
    if (result.subject, result.trial) != (model.subject, model.trial):
        raise ModelError(
            f"{where} does not belong to model {model.subject}/{model.trial}; "
            "reduce it with the model it was solved from"
        )
    if result.model_hash and result.model_hash != model.content_hash():
        raise ModelError(
            f"{where} was solved on model {result.model_hash}, not {model.content_hash()}; "
            "pass the model directory the solve used"
        )
    volume = np.asarray(result.element_volume, dtype=np.float64)
    if (
        volume.shape != (model.n_elements,)
        or not np.all(np.isfinite(volume))
        or np.any(volume <= 0)
    ):
        raise SolveError(
            f"{where}: element volumes must be {model.n_elements} positive finite numbers (mm^3); "
            "re-run the solve"
        )
    model_phases = [p.name for p in model.phases]
    if sorted(result.phases) != sorted(model_phases):
        raise SolveError(
            f"{where} has phases {sorted(result.phases)}, the model {sorted(model_phases)}; "
            "re-run the solve (a step is missing or extra)"
        )
    for name, ph in result.phases.items():
        vm = np.asarray(ph.von_mises)
        if vm.shape != (model.n_elements,) or not np.all(np.isfinite(vm)):
            raise SolveError(
                f"{where}, phase {name!r}: von Mises must be {model.n_elements} finite values (MPa); "
                "re-run the solve"
            )
    return volume


def reduce_result(
    result: SolveResult, model: AnalysisModel, *, solve_id: str | None = None
) -> list[LabelRow]:
    """Label rows of every phase x output part x output statistic of a solve.

    ``solve_id`` defaults to ``result.info['solve_id']`` and else to ``result_solve_id(result)``
    (reducing the same result twice gives the same id, so storing it twice is a no-op).
    """
    volume = _check(result, model)
    sid = solve_id or str(result.info.get("solve_id") or result_solve_id(result))
    parts = model.outputs.parts or tuple(model.parts)
    for part in parts:
        if part not in model.parts or len(model.parts[part]) == 0:
            raise ModelError(
                f"output part {part!r} has no elements in the model; fix the spec's outputs"
            )
    created = datetime.now(UTC).isoformat(timespec="seconds")
    rows: list[LabelRow] = []
    for phase in model.phases:
        if phase.name not in result.phases:
            continue
        ph = result.phases[phase.name]
        vm = np.asarray(ph.von_mises, dtype=np.float64)
        on_boundary = np.zeros(model.n_nodes, dtype=bool)
        on_boundary[model.boundary_nodes(phase)] = True
        for part in parts:
            idx = np.asarray(model.parts[part], dtype=np.int64)
            values, weights = vm[idx], volume[idx]
            at_max = idx[values == values.max()]
            flag = bool(on_boundary[model.elements[at_max]].any())
            for stat in model.outputs.statistics:
                rows.append(
                    LabelRow(
                        subject=result.subject,
                        trial=result.trial,
                        phase=phase.name,
                        bone=part,
                        stat=stat,
                        value_mpa=statistic(stat, values, weights),
                        backend=result.backend,
                        backend_version=result.backend_version,
                        spec_hash=result.spec_hash,
                        mesh_hash=result.mesh_hash,
                        model_hash=result.model_hash,
                        solve_id=sid,
                        wall_time_s=float(result.wall_time),
                        residual=None if ph.residual is None else float(ph.residual),
                        max_on_boundary=flag,
                        created_at=created,
                    )
                )
    return rows
