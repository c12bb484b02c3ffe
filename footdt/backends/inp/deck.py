"""A small, solver-neutral deck model built from an ``AnalysisModel`` (numbers only, 1-based labels).

``build_deck`` does every translation both deck dialects share: 1-based node and element labels,
element-face surfaces as (element label, face 1..4), boundary conditions grouped into dof runs,
nodal forces summed per node and dof, pressures per surface, connector lengths. It first runs
``ir.validate``, which refuses what a deck cannot say unambiguously (an element in no part or in
two, conflicting prescribed values, overlapping pressure surfaces, names that collide once a
solver upper-cases them or that CalculiX looks up in one namespace, reversed slip-ring segments)
with a one-line ``ModelError`` instead of writing a deck that means something else.

Units everywhere: mm, N, MPa, s (mass in tonne).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

import footdt
from footdt.errors import ModelError
from footdt.ir import RESERVED_PREFIX, AnalysisModel, ConnectorLaw, Phase, Tie, validate

Dialect = Literal["abaqus", "calculix"]
DIALECTS: tuple[Dialect, ...] = ("abaqus", "calculix")
ELEMENT_TYPES = {"tetra": "C3D4", "tetra10": "C3D10"}
UNITS = "length mm, force N, stress MPa, time s, mass tonne"
#: Names footdt adds to a deck (never clash with model names: ``ir.validate`` refuses names that
#: start with ``FOOTDT_``).
ALL_NODES = f"{RESERVED_PREFIX}ALL_NODES"
ALL_SOLIDS = f"{RESERVED_PREFIX}ALL_SOLIDS"


@dataclass(frozen=True)
class DeckConnector:
    """A two-node connector: ``label`` follows the solid elements; nodes are 1-based labels."""

    name: str
    elset: str
    label: int
    node_a: int
    node_b: int
    law: ConnectorLaw
    stiffness: float  # N/mm
    length: float  # mm, initial distance between the nodes


@dataclass(frozen=True)
class Boundary:
    """Prescribed displacement ``value`` (mm) on dofs ``first..last`` (1-based) of a set or node."""

    target: str  # node-set name or a node label
    first: int
    last: int
    value: float


@dataclass(frozen=True)
class DeckStep:
    """One independent load case (= one IR phase). Every load type is rewritten with OP=NEW."""

    name: str
    boundaries: tuple[Boundary, ...]
    cloads: tuple[tuple[int, int, float], ...]  # (node label, dof 1..3, force N)
    pressures: tuple[tuple[str, float], ...]  # (surface name, MPa; positive pushes into the body)
    constrained: np.ndarray  # (K, 2) int: (0-based node, 0-based dof) prescribed in this step
    applied: np.ndarray  # (N, 3) N: concentrated forces of this step (for reaction bookkeeping)


@dataclass(frozen=True, eq=False)
class Deck:
    subject: str
    trial: str
    model_hash: str
    spec_hash: str
    footdt_version: str
    element_type: str  # C3D4 | C3D10
    nodes: np.ndarray  # (N, 3) mm; node label = row + 1
    elements: np.ndarray  # (M, k) 1-based node labels; element label = row + 1
    elsets: dict[str, np.ndarray]  # part -> element labels
    nsets: dict[str, np.ndarray]  # node set -> node labels
    surfaces: dict[str, np.ndarray]  # surface -> (K, 2) (element label, face 1..4)
    materials: dict[str, tuple[float, float]]  # name -> (E MPa, nu)
    sections: dict[str, str]  # part -> material
    connectors: tuple[DeckConnector, ...]
    ties: tuple[Tie, ...]
    steps: tuple[DeckStep, ...]

    @property
    def nonlinear(self) -> bool:
        """True when a tension-only connector makes an Abaqus step a nonlinear (iterated) solve
        (CalculiX instead reruns linear steps in an active-set loop: see backends/calculix.py)."""
        return any(c.law == "tension_only" for c in self.connectors)


def _dof_runs(dofs: tuple[int, ...]) -> list[tuple[int, int]]:
    """Contiguous 1-based (first, last) runs of 0-based dofs, e.g. (0, 2) -> [(1, 1), (3, 3)]."""
    runs: list[tuple[int, int]] = []
    for d in sorted(set(dofs)):
        if d not in (0, 1, 2):
            raise ModelError(f"degree of freedom {d} is not 0 (x), 1 (y) or 2 (z)")
        if runs and runs[-1][1] == d:  # previous run ends at 1-based d == 0-based d - 1 + 1
            runs[-1] = (runs[-1][0], d + 1)
        else:
            runs.append((d + 1, d + 1))
    return runs


def _build_step(model: AnalysisModel, phase: Phase, ring_ends: np.ndarray) -> DeckStep:
    boundaries: list[Boundary] = []
    prescribed: dict[tuple[int, int], float] = {}
    for fx in phase.fixed:  # sets, values and conflicts checked by ir.validate
        for first, last in _dof_runs(fx.dofs):
            boundaries.append(Boundary(fx.node_set, first, last, float(fx.value)))
        for node in np.asarray(model.node_sets[fx.node_set]).tolist():
            for d in fx.dofs:
                prescribed[(int(node), int(d))] = float(fx.value)
    for node in ring_ends.tolist():  # slip-ring belt ends: no material flow in or out (dof 10)
        boundaries.append(Boundary(str(node + 1), 10, 10, 0.0))

    forces = np.zeros((model.n_nodes, 3))
    for load in phase.nodal_loads:
        nodes = np.asarray(model.node_sets[load.node_set], dtype=np.int64)
        np.add.at(forces, nodes, np.asarray(load.forces, dtype=np.float64))
    nz_node, nz_dof = np.nonzero(forces)
    cloads = tuple(
        (int(n) + 1, int(d) + 1, float(forces[n, d])) for n, d in zip(nz_node, nz_dof, strict=True)
    )

    totals: dict[str, float] = {}
    for p in phase.pressures:
        totals[p.surface] = totals.get(p.surface, 0.0) + float(p.value)
    loaded = [s for s, v in totals.items() if v != 0.0]
    pressures = tuple((s, totals[s]) for s in loaded)
    constrained = np.array(sorted(prescribed), dtype=np.int64).reshape(-1, 2)
    return DeckStep(phase.name, tuple(boundaries), cloads, pressures, constrained, forces)


def _connectors(
    model: AnalysisModel, first_label: int
) -> tuple[tuple[DeckConnector, ...], np.ndarray]:
    out = []
    ring_count = np.zeros(model.n_nodes, dtype=np.int64)
    for i, c in enumerate(model.connectors):
        length = float(np.linalg.norm(model.nodes[c.node_b] - model.nodes[c.node_a]))
        if c.law == "slip_ring":
            ring_count[[c.node_a, c.node_b]] += 1
        out.append(
            DeckConnector(
                c.name,
                f"FOOTDT_CONN_{i + 1}",
                first_label + i,
                c.node_a + 1,
                c.node_b + 1,
                c.law,
                float(c.stiffness),
                length,
            )
        )
    return tuple(out), np.flatnonzero(ring_count == 1)


def build_deck(model: AnalysisModel) -> Deck:
    """Translate ``model`` into a ``Deck`` (``ModelError`` from ``ir.validate`` on anything a
    deck cannot express unambiguously)."""
    validate(model)
    connectors, ring_ends = _connectors(model, model.n_elements + 1)
    surfaces = {
        name: np.asarray(surf, dtype=np.int64).reshape(-1, 2) + 1
        for name, surf in model.surfaces.items()
    }
    return Deck(
        subject=model.subject,
        trial=model.trial,
        model_hash=model.content_hash(),
        spec_hash=str(model.provenance.get("spec_hash", "unknown")),
        footdt_version=footdt.__version__,
        element_type=ELEMENT_TYPES[model.cell_type],
        nodes=np.asarray(model.nodes, dtype=np.float64),
        elements=np.asarray(model.elements, dtype=np.int64) + 1,
        elsets={k: np.sort(np.asarray(v, dtype=np.int64)) + 1 for k, v in model.parts.items()},
        nsets={k: np.unique(np.asarray(v, dtype=np.int64)) + 1 for k, v in model.node_sets.items()},
        surfaces=surfaces,
        materials={k: (float(m.E), float(m.nu)) for k, m in model.materials.items()},
        sections=dict(model.sections),
        connectors=connectors,
        ties=model.ties,
        steps=tuple(_build_step(model, ph, ring_ends) for ph in model.phases),
    )
