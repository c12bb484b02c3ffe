"""The invariants of the IR, checked in one place: ``footdt.ir.validate`` calls ``validate_model``.

Also the rigid-body check (a part that can float in some phase), which compile pass 6
(``footdt.compile.check_constraints``) runs on the model it is building.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from footdt.errors import ModelError
from footdt.ir import RESERVED_PREFIX, AnalysisModel, Connector, Phase

#: A name every backend can write: solvers read names case-insensitively, up to 80 characters.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,79}$")
CONNECTOR_LAWS = ("linear", "tension_only", "slip_ring")


def validate_model(model: AnalysisModel) -> AnalysisModel:
    """Check every invariant of the IR; raise a one-line ``ModelError`` on the first broken one.

    Run at the end of compile, on load and before every solve, so that no backend needs checks
    of its own. Returns ``model``. The invariants:

    - mesh: cell type tetra or tetra10; finite (N, 3) nodes; (M, 4|10) connectivity within the
      nodes; every element of positive volume (corner tetrahedron); every node used by an element;
    - names: 1-80 letters, digits, '_' or '-', starting with a letter, not with ``FOOTDT_``;
      unique ignoring case within each kind, and parts and surfaces in one namespace (CalculiX's
      *DLOAD/*DSLOAD looks a name up as an element set before a surface: a surface named like a
      part would load the part's elements without a face);
    - parts cover every element exactly once, none is empty, each has a section whose material
      exists; materials have E > 0 and -1 < nu < 0.5;
    - node sets and surfaces refer to existing nodes, elements and faces (0..3);
    - connectors: existing, distinct nodes; a positive finite stiffness; a known law; slip-ring
      segments form belts: at most two segments per node, and where two meet, one ends (node b)
      and the next starts (node a) there (Abaqus SLIPRING material flows from a to b);
    - ties: named like any other name, on existing surfaces, with a finite tolerance >= 0;
    - phases: at least one, unique names; loads and prescribed values on existing sets and
      surfaces, finite, of the right shape; dofs 0..2; no node dof prescribed two values; no
      element face under two pressures in one phase;
    - no part can move as a rigid body in any phase (``compile.check_constraints``).
    """
    _check_mesh(model)
    _check_names(model)
    _check_parts(model)
    _check_sets(model)
    _check_connectors(model)
    for tie in model.ties:
        if not (np.isfinite(tie.tolerance) and tie.tolerance >= 0):
            raise ModelError(f"tie {tie.name!r} needs a finite position tolerance >= 0 (mm)")
        for side in (tie.slave, tie.master):
            if side not in model.surfaces:
                raise ModelError(f"tie {tie.name!r} uses unknown surface {side!r}")
    if not model.phases:
        raise ModelError("the model has no phase: a solve needs at least one load step")
    for phase in model.phases:
        _check_phase(model, phase)
    check_constraints(
        model.nodes, model.elements, model.parts, model.node_sets, model.connectors, model.phases
    )
    return model


def _check_mesh(model: AnalysisModel) -> None:
    if model.cell_type not in ("tetra", "tetra10"):
        raise ModelError(f"cell type {model.cell_type!r} is not supported; use tetra or tetra10")
    nodes, elements = np.asarray(model.nodes), np.asarray(model.elements)
    if nodes.ndim != 2 or nodes.shape[1] != 3 or not np.all(np.isfinite(nodes)):
        raise ModelError("node coordinates must be finite (N, 3) values (mm)")
    width = 4 if model.cell_type == "tetra" else 10
    if elements.ndim != 2 or elements.shape[1] != width or elements.dtype.kind not in "iu":
        raise ModelError(f"{model.cell_type} connectivity must be an (M, {width}) integer array")
    if elements.size and (elements.min() < 0 or elements.max() >= model.n_nodes):
        raise ModelError(f"element connectivity refers to nodes outside 0..{model.n_nodes - 1}")
    from footdt.mechanics import tet_volumes

    bad = tet_volumes(nodes, elements) <= 0
    if np.any(bad):
        raise ModelError(
            f"{int(bad.sum())} elements have non-positive volume (first: {int(np.argmax(bad))}); "
            "remesh or fix the element node order"
        )
    used = np.zeros(model.n_nodes, dtype=bool)
    used[elements.ravel()] = True
    if not used.all():
        raise ModelError(
            f"{int((~used).sum())} nodes belong to no element (first: {int(np.argmax(~used))}); "
            "remove them"
        )


def _names(kind: str, names: Iterable[str], taken: dict[str, str]) -> None:
    for name in names:
        if not _NAME.match(name) or name.upper().startswith(RESERVED_PREFIX):
            raise ModelError(
                f"{kind} name {name!r} cannot be written to a deck: use 1-80 letters, digits, '_' "
                f"or '-', starting with a letter and not with {RESERVED_PREFIX!r}"
            )
        key = name.upper()
        if key in taken:
            raise ModelError(
                f"{kind} {name!r} and {taken[key]} are the same name in a deck (solvers ignore "
                "case, and CalculiX looks element sets and surfaces up together); rename one"
            )
        taken[key] = f"{kind} {name!r}"


def _check_names(model: AnalysisModel) -> None:
    element_names: dict[str, str] = {}  # parts (element sets) and surfaces share a namespace
    _names("part", model.parts, element_names)
    _names("surface", model.surfaces, element_names)
    _names("node set", model.node_sets, {})
    _names("material", model.materials, {})
    _names("connector", (c.name for c in model.connectors), {})
    _names("tie", (t.name for t in model.ties), {})
    _names("phase", (p.name for p in model.phases), {})


def _check_parts(model: AnalysisModel) -> None:
    count = np.zeros(model.n_elements, dtype=np.int64)
    for part, idx in model.parts.items():
        ids = np.asarray(idx)
        if ids.size == 0:
            raise ModelError(f"part {part!r} has no elements: remove it or mesh it")
        if ids.dtype.kind not in "iu" or ids.min() < 0 or ids.max() >= model.n_elements:
            raise ModelError(f"part {part!r} refers to elements outside 0..{model.n_elements - 1}")
        np.add.at(count, ids.astype(np.int64), 1)
    if np.any(count == 0):
        raise ModelError(
            f"{int(np.sum(count == 0))} elements (first: {int(np.argmax(count == 0))}) belong to "
            "no part: every element needs a part with a section"
        )
    if np.any(count > 1):
        raise ModelError(
            f"element {int(np.argmax(count > 1))} belongs to more than one part: parts must not "
            "overlap"
        )
    for part in model.parts:
        if model.sections.get(part) not in model.materials:
            raise ModelError(f"part {part!r} has no section with a defined material")
    for extra in sorted(set(model.sections) - set(model.parts)):
        raise ModelError(f"a section names part {extra!r}, which the model does not have")
    for name, m in model.materials.items():
        if not (np.isfinite(m.E) and m.E > 0 and np.isfinite(m.nu) and -1.0 < m.nu < 0.5):
            raise ModelError(
                f"material {name!r}: E must be > 0 (MPa) and nu in (-1, 0.5), got E={m.E}, nu={m.nu}"
            )


def _check_sets(model: AnalysisModel) -> None:
    for name, ids in model.node_sets.items():
        a = np.asarray(ids)
        if a.size and (a.dtype.kind not in "iu" or a.min() < 0 or a.max() >= model.n_nodes):
            raise ModelError(f"node set {name!r} refers to nodes outside 0..{model.n_nodes - 1}")
    for name, surf in model.surfaces.items():
        s = np.asarray(surf)
        if s.size == 0:
            continue
        if s.ndim != 2 or s.shape[1] != 2 or s.dtype.kind not in "iu":
            raise ModelError(f"surface {name!r} must be (K, 2) integer (element, face) pairs")
        if (
            s[:, 0].min() < 0
            or s[:, 0].max() >= model.n_elements
            or s[:, 1].min() < 0
            or (s[:, 1].max() > 3)
        ):
            raise ModelError(f"surface {name!r} refers to an element or face that does not exist")


def _check_connectors(model: AnalysisModel) -> None:
    ring_in = np.zeros(model.n_nodes, dtype=np.int64)  # slip-ring segments ending at a node (b)
    ring_out = np.zeros(model.n_nodes, dtype=np.int64)  # ... and starting there (a)
    for c in model.connectors:
        if c.law not in CONNECTOR_LAWS:
            raise ModelError(
                f"connector {c.name!r}: unknown law {c.law!r}; use {', '.join(CONNECTOR_LAWS)}"
            )
        for node in (c.node_a, c.node_b):
            if not 0 <= node < model.n_nodes:
                raise ModelError(
                    f"connector {c.name!r} uses node {node}, outside 0..{model.n_nodes - 1}"
                )
        if float(np.linalg.norm(model.nodes[c.node_b] - model.nodes[c.node_a])) <= 0.0:
            raise ModelError(
                f"connector {c.name!r} joins two coincident nodes; it needs a length > 0"
            )
        if not (np.isfinite(c.stiffness) and c.stiffness > 0):
            raise ModelError(
                f"connector {c.name!r} needs a positive stiffness (N/mm), got {c.stiffness}"
            )
        if c.law == "slip_ring":
            ring_out[c.node_a] += 1
            ring_in[c.node_b] += 1
    total = ring_in + ring_out
    if np.any(total > 2):
        raise ModelError(
            f"node {int(np.argmax(total > 2))} is shared by more than two slip-ring connectors; "
            "a slip ring passes one belt (two segments) per node"
        )
    reversed_ = (total == 2) & (ring_in != 1)
    if np.any(reversed_):
        node = int(np.argmax(reversed_))
        names = [
            c.name
            for c in model.connectors
            if c.law == "slip_ring" and node in (c.node_a, c.node_b)
        ]
        way = "end" if ring_in[node] == 2 else "start"
        raise ModelError(
            f"slip-ring connectors {' and '.join(names)} both {way} at node {node}: a belt's "
            "material flows from node a to node b of each segment, so one segment must end where "
            "the next starts; swap a and b of one of them"
        )


def _check_phase(model: AnalysisModel, phase: Phase) -> None:
    where = f"phase {phase.name!r}"
    prescribed: dict[tuple[int, int], float] = {}
    for fx in phase.fixed:
        if fx.node_set not in model.node_sets:
            raise ModelError(
                f"{where}: fixed dofs {fx.name!r} use unknown node set {fx.node_set!r}"
            )
        if not np.isfinite(fx.value):
            raise ModelError(f"{where}: fixed dofs {fx.name!r} have a non-finite value")
        for d in fx.dofs:
            if d not in (0, 1, 2):
                raise ModelError(f"{where}: degree of freedom {d} is not 0 (x), 1 (y) or 2 (z)")
        for node in np.asarray(model.node_sets[fx.node_set]).tolist():
            for d in fx.dofs:
                old = prescribed.setdefault((int(node), int(d)), float(fx.value))
                if old != float(fx.value):
                    raise ModelError(
                        f"{where}: node {node} dof {d} is prescribed both {old} and {fx.value} mm"
                    )
    for load in phase.nodal_loads:
        if load.node_set not in model.node_sets:
            raise ModelError(
                f"{where}: nodal load {load.name!r} uses unknown node set {load.node_set!r}"
            )
        n = len(model.node_sets[load.node_set])
        f = np.asarray(load.forces, dtype=np.float64)
        if f.shape != (n, 3) or not np.all(np.isfinite(f)):
            raise ModelError(
                f"{where}: nodal load {load.name!r} needs finite forces of shape ({n}, 3), "
                f"got {f.shape}"
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
        faces = np.concatenate([np.asarray(model.surfaces[s]).reshape(-1, 2) for s in loaded])
        keys = faces[:, 0].astype(np.int64) * 4 + faces[:, 1]
        if len(np.unique(keys)) != len(keys):
            raise ModelError(
                f"{where}: pressure surfaces {', '.join(loaded)} repeat an element face; a face may "
                "carry one pressure per phase (merge the surfaces or remove the duplicates)"
            )


_MODE_NAMES = (
    "translation x",
    "translation y",
    "translation z",
    "rotation about x",
    "rotation about y",
    "rotation about z",
)


def _components(
    n_nodes: int, elements: np.ndarray, connectors: tuple[Connector, ...]
) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m, k = elements.shape
    rows = np.repeat(np.arange(m), k)
    cols = elements.ravel()
    # bipartite graph: elements (0..m-1) and nodes (m..m+n-1), plus node-node connector edges
    r = np.concatenate([rows, [m + c.node_a for c in connectors]]).astype(np.int64)
    c = np.concatenate([m + cols, [m + c.node_b for c in connectors]]).astype(np.int64)
    graph = coo_matrix((np.ones(len(r)), (r, c)), shape=(m + n_nodes, m + n_nodes))
    _, labels = connected_components(graph, directed=False)
    return labels


def check_constraints(
    nodes: np.ndarray,
    elements: np.ndarray,
    parts: dict[str, np.ndarray],
    node_sets: dict[str, np.ndarray],
    connectors: tuple[Connector, ...],
    phases: tuple[Phase, ...],
) -> None:
    """Every connected piece of the model must have its six rigid-body modes constrained in every phase."""
    labels = _components(len(nodes), elements, connectors)
    m = len(elements)
    elem_label = labels[:m]
    node_label = labels[m:]
    for phase in phases:
        fixed_nodes: list[np.ndarray] = []
        fixed_dofs: list[np.ndarray] = []
        for fx in phase.fixed:
            ids = node_sets[fx.node_set]
            for d in fx.dofs:
                fixed_nodes.append(ids)
                fixed_dofs.append(np.full(len(ids), d))
        fn = np.concatenate(fixed_nodes) if fixed_nodes else np.zeros(0, np.int64)
        fd = np.concatenate(fixed_dofs) if fixed_dofs else np.zeros(0, np.int64)
        for comp in np.unique(elem_label):
            sel = node_label[fn] == comp
            free = _free_modes(nodes, fn[sel], fd[sel])
            if free:
                comp_elems = np.flatnonzero(elem_label == comp)
                floating = [p for p, idx in parts.items() if np.isin(idx, comp_elems).any()]
                raise ModelError(
                    f"phase '{phase.name}': part(s) {', '.join(floating)} can move as a rigid body "
                    f"({', '.join(free)} unconstrained); add a boundary condition on them "
                    f"(e.g. fix a surface) or connect them to a constrained part"
                )


def _free_modes(nodes: np.ndarray, fn: np.ndarray, fd: np.ndarray) -> list[str]:
    """Names of the rigid-body modes that the constrained (node, dof) pairs do not stop."""
    if len(fn) == 0:
        return list(_MODE_NAMES)
    x = nodes[fn] - nodes[fn].mean(axis=0)
    scale = max(float(np.abs(x).max()), 1e-12)
    x = x / scale
    # value of each rigid mode at each constrained DOF
    modes = np.zeros((len(fn), 6))
    modes[np.arange(len(fn)), fd] = 1.0
    rot = np.cross(np.eye(3)[None, :, :], x[:, None, :])  # (K, 3 axes, 3 comps): omega_a x r
    modes[:, 3:] = rot[np.arange(len(fn)), :, fd]
    # the (6, 6) right singular vectors are all that is needed (full U would be K x K)
    _, s, vt = np.linalg.svd(modes, full_matrices=len(fn) < 6)
    rank = int(np.sum(s > 1e-8 * max(s.max(), 1.0)))
    if rank == 6:
        return []
    null = vt[rank:]
    return [_MODE_NAMES[int(np.argmax(np.abs(v)))] for v in null]
