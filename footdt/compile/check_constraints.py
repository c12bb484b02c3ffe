"""Pass 6: refuse models that can move as a rigid body (a part that floats in some phase)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from footdt.errors import ModelError
from footdt.ir import Connector, Phase

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
    # a (node, dof) pair constrained twice (duplicated or overlapping conditions) adds nothing
    pairs = np.unique(np.asarray(fn, np.int64) * 3 + np.asarray(fd, np.int64))
    fn, fd = pairs // 3, pairs % 3
    x = nodes[fn] - nodes[fn].mean(axis=0)
    scale = max(float(np.abs(x).max()), 1e-12)
    x = x / scale
    # value of each rigid mode at each constrained DOF
    modes = np.zeros((len(fn), 6))
    modes[np.arange(len(fn)), fd] = 1.0
    rot = np.cross(np.eye(3)[None, :, :], x[:, None, :])  # (K, 3 axes, 3 comps): omega_a x r
    modes[:, 3:] = rot[np.arange(len(fn)), :, fd]
    # rank and null space of the K x 6 matrix from its 6 x 6 triangular factor: the same singular
    # values and right vectors as an SVD of ``modes`` itself, in O(K) memory (a full SVD of
    # ``modes`` builds a K x K matrix: 1.34 TiB for K = 430k constrained DOFs)
    r = np.linalg.qr(modes, mode="r")
    _, s, vt = np.linalg.svd(r, full_matrices=True)
    rank = int(np.sum(s > 1e-8 * max(s.max(), 1.0)))
    if rank == 6:
        return []
    null = vt[rank:]
    return [_MODE_NAMES[int(np.argmax(np.abs(v)))] for v in null]
