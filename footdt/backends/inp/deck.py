"""A small, solver-neutral deck model built from an ``AnalysisModel`` (numbers only, 1-based labels).

``build_deck`` does every translation both deck dialects share: 1-based node and element labels,
element-face surfaces as (element label, face 1..4), boundary conditions grouped into dof runs,
nodal forces summed per node and dof, pressures per surface, connector lengths. It also checks
what a deck cannot say unambiguously (an element in no part or in two, conflicting prescribed
values, overlapping pressure surfaces, names that collide once a solver upper-cases them) and
raises a one-line ``ModelError`` instead of writing a deck that means something else.

Units everywhere: mm, N, MPa, s (mass in tonne).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

import footdt
from footdt.errors import ModelError
from footdt.ir import AnalysisModel, ConnectorLaw, Phase, Tie

Dialect = Literal["abaqus", "calculix"]
DIALECTS: tuple[Dialect, ...] = ("abaqus", "calculix")
ELEMENT_TYPES = {"tetra": "C3D4", "tetra10": "C3D10"}
UNITS = "length mm, force N, stress MPa, time s, mass tonne"
#: Names footdt adds to a deck (never clash with model names: those may not start with ``FOOTDT_``).
ALL_NODES = "FOOTDT_ALL_NODES"
ALL_SOLIDS = "FOOTDT_ALL_SOLIDS"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,79}$")


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


def _check_names(kind: str, names: list[str], taken: dict[str, str]) -> None:
    for name in names:
        if not _NAME.match(name) or name.upper().startswith("FOOTDT_"):
            raise ModelError(
                f"{kind} name {name!r} cannot be written to a deck: use 1-80 letters, digits, '_' or "
                "'-', starting with a letter and not with 'FOOTDT_'"
            )
        key = name.upper()
        if key in taken:
            raise ModelError(
                f"{kind} {name!r} and {taken[key]!r} are the same name in a deck (solvers ignore case); "
                "rename one of them"
            )
        taken[key] = f"{kind} {name}"


def _check_parts(model: AnalysisModel) -> None:
    count = np.zeros(model.n_elements, dtype=np.int64)
    for idx in model.parts.values():
        np.add.at(count, np.asarray(idx, dtype=np.int64), 1)
    if np.any(count == 0):
        raise ModelError(
            f"{int(np.sum(count == 0))} elements (first: {int(np.argmax(count == 0))}) belong to no part: "
            "every element needs a part with a section before a deck can be written"
        )
    if np.any(count > 1):
        raise ModelError(
            f"element {int(np.argmax(count > 1))} belongs to more than one part: parts must not overlap"
        )
    for part, idx in model.parts.items():
        if len(idx) == 0:
            raise ModelError(
                f"part {part!r} has no elements: remove it or mesh it before writing a deck"
            )
        if model.sections.get(part) not in model.materials:
            raise ModelError(f"part {part!r} has no section with a defined material")


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
    where = f"phase {phase.name!r}"
    boundaries: list[Boundary] = []
    prescribed: dict[tuple[int, int], float] = {}
    for fx in phase.fixed:
        if fx.node_set not in model.node_sets:
            raise ModelError(
                f"{where}: fixed dofs {fx.name!r} use unknown node set {fx.node_set!r}"
            )
        if not np.isfinite(fx.value):
            raise ModelError(f"{where}: fixed dofs {fx.name!r} have a non-finite value")
        for first, last in _dof_runs(fx.dofs):
            boundaries.append(Boundary(fx.node_set, first, last, float(fx.value)))
        for node in np.asarray(model.node_sets[fx.node_set]).tolist():
            for d in fx.dofs:
                old = prescribed.setdefault((int(node), int(d)), float(fx.value))
                if old != float(fx.value):
                    raise ModelError(
                        f"{where}: node {node} dof {d} is prescribed both {old} and {fx.value} mm"
                    )
    for node in ring_ends.tolist():  # slip-ring belt ends: no material flow in or out (dof 10)
        boundaries.append(Boundary(str(node + 1), 10, 10, 0.0))

    forces = np.zeros((model.n_nodes, 3))
    for load in phase.nodal_loads:
        if load.node_set not in model.node_sets:
            raise ModelError(
                f"{where}: nodal load {load.name!r} uses unknown node set {load.node_set!r}"
            )
        nodes = np.asarray(model.node_sets[load.node_set], dtype=np.int64)
        f = np.asarray(load.forces, dtype=np.float64)
        if f.shape != (len(nodes), 3) or not np.all(np.isfinite(f)):
            raise ModelError(
                f"{where}: nodal load {load.name!r} needs finite forces of shape ({len(nodes)}, 3), "
                f"got {f.shape}"
            )
        np.add.at(forces, nodes, f)
    nz_node, nz_dof = np.nonzero(forces)
    cloads = tuple(
        (int(n) + 1, int(d) + 1, float(forces[n, d])) for n, d in zip(nz_node, nz_dof, strict=True)
    )

    totals: dict[str, float] = {}
    for p in phase.pressures:
        if p.surface not in model.surfaces:
            raise ModelError(f"{where}: pressure on unknown surface {p.surface!r}")
        if not np.isfinite(p.value):
            raise ModelError(f"{where}: pressure on {p.surface!r} is not finite")
        totals[p.surface] = totals.get(p.surface, 0.0) + float(p.value)
    loaded = [s for s, v in totals.items() if v != 0.0]
    if loaded:
        keys = np.concatenate([_face_keys(model.surfaces[s]) for s in loaded])
        if len(np.unique(keys)) != len(keys):
            raise ModelError(
                f"{where}: pressure surfaces {', '.join(loaded)} repeat an element face; a face may "
                "carry one pressure per phase (merge the surfaces or remove the duplicates)"
            )
    pressures = tuple((s, totals[s]) for s in loaded)
    constrained = np.array(sorted(prescribed), dtype=np.int64).reshape(-1, 2)
    return DeckStep(phase.name, tuple(boundaries), cloads, pressures, constrained, forces)


def _face_keys(surface: np.ndarray) -> np.ndarray:
    s = np.asarray(surface, dtype=np.int64).reshape(-1, 2)
    return s[:, 0] * 4 + s[:, 1]


def _connectors(
    model: AnalysisModel, first_label: int
) -> tuple[tuple[DeckConnector, ...], np.ndarray]:
    out = []
    ring_count = np.zeros(model.n_nodes, dtype=np.int64)
    for i, c in enumerate(model.connectors):
        for node in (c.node_a, c.node_b):
            if not 0 <= node < model.n_nodes:
                raise ModelError(
                    f"connector {c.name!r} uses node {node}, outside 0..{model.n_nodes - 1}"
                )
        length = float(np.linalg.norm(model.nodes[c.node_b] - model.nodes[c.node_a]))
        if length <= 0.0:
            raise ModelError(
                f"connector {c.name!r} joins two coincident nodes; it needs a length > 0"
            )
        if not (np.isfinite(c.stiffness) and c.stiffness > 0):
            raise ModelError(
                f"connector {c.name!r} needs a positive stiffness (N/mm), got {c.stiffness}"
            )
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
    if np.any(ring_count > 2):
        raise ModelError(
            f"node {int(np.argmax(ring_count > 2))} is shared by more than two slip-ring connectors; "
            "a slip ring passes one belt (two segments) per node"
        )
    return tuple(out), np.flatnonzero(ring_count == 1)


def build_deck(model: AnalysisModel) -> Deck:
    """Translate ``model`` into a ``Deck`` (raises ``ModelError`` on anything a deck cannot express)."""
    if model.cell_type not in ELEMENT_TYPES:
        raise ModelError(f"cell type {model.cell_type!r} has no deck element; use tetra or tetra10")
    if not np.all(np.isfinite(model.nodes)):
        raise ModelError("node coordinates contain NaN or infinity")
    if model.elements.size and (model.elements.min() < 0 or model.elements.max() >= model.n_nodes):
        raise ModelError(f"element connectivity refers to nodes outside 0..{model.n_nodes - 1}")
    taken: dict[str, str] = {}
    _check_names("part", list(model.parts), taken)
    _check_names("connector", [c.name for c in model.connectors], {})
    _check_names("material", list(model.materials), {})
    _check_names("node set", list(model.node_sets), {})
    _check_names("surface", list(model.surfaces), {})
    _check_names("phase", [p.name for p in model.phases], {})
    _check_parts(model)
    if not model.phases:
        raise ModelError("the model has no phase: a deck needs at least one load step")
    connectors, ring_ends = _connectors(model, model.n_elements + 1)
    for tie in model.ties:
        for side in (tie.slave, tie.master):
            if side not in model.surfaces:
                raise ModelError(f"tie {tie.name!r} uses unknown surface {side!r}")
    surfaces = {}
    for name, surf in model.surfaces.items():
        s = np.asarray(surf, dtype=np.int64).reshape(-1, 2)
        if len(s) and (
            s[:, 0].min() < 0
            or s[:, 0].max() >= model.n_elements
            or s[:, 1].min() < 0
            or s[:, 1].max() > 3
        ):
            raise ModelError(f"surface {name!r} refers to an element or face that does not exist")
        surfaces[name] = s + 1
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
