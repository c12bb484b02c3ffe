"""Mesh topology in numpy: boundary faces, face selection, orientation fixes."""

from __future__ import annotations

import numpy as np

from footdt.ir import TET_FACES
from footdt.mechanics import tet_volumes


def boundary_faces(elements: np.ndarray) -> np.ndarray:
    """(K, 2) array of (element, local face) for faces that belong to exactly one element."""
    corners = elements[:, :4]
    local = np.asarray(TET_FACES)
    faces = corners[:, local].reshape(-1, 3)  # (4M, 3)
    key = np.sort(faces, axis=1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    once = counts[inverse.ravel()] == 1
    idx = np.flatnonzero(once)
    return np.column_stack([idx // 4, idx % 4]).astype(np.int64)


def interface_faces(elements: np.ndarray, in_a: np.ndarray) -> np.ndarray:
    """Faces of elements in set A (bool mask) shared with an element outside A, as (element, face)."""
    corners = elements[:, :4]
    local = np.asarray(TET_FACES)
    faces = np.sort(corners[:, local].reshape(-1, 3), axis=1)
    owner = np.repeat(np.arange(len(elements)), 4)
    _, inverse = np.unique(faces, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    a_keys = set(inverse[in_a[owner]].tolist())
    b_keys = set(inverse[~in_a[owner]].tolist())
    shared = a_keys & b_keys
    sel = np.flatnonzero(in_a[owner] & np.isin(inverse, list(shared)))
    return np.column_stack([sel // 4, sel % 4]).astype(np.int64)


def face_centroids_normals(
    nodes: np.ndarray, elements: np.ndarray, faces: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centroids, unit outward normals and areas of (element, local face) pairs."""
    tri = np.take_along_axis(elements[faces[:, 0], :4], np.asarray(TET_FACES)[faces[:, 1]], axis=1)
    p = nodes[tri]
    # TET_FACES order follows Abaqus: the right-hand normal of a face points into its element.
    n = -np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    area2 = np.linalg.norm(n, axis=1)
    return p.mean(axis=1), n / area2[:, None], area2 / 2.0


def orient_positive(nodes: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Return elements with corner order swapped where needed so every volume is positive."""
    out = elements.copy()
    neg = tet_volumes(nodes, out) < 0
    if elements.shape[1] == 4:
        out[neg] = out[neg][:, [0, 2, 1, 3]]
    else:  # tetra10: swap corners 1,2 and the matching mid-side nodes (4<->6, 8<->9)
        out[neg] = out[neg][:, [0, 2, 1, 3, 6, 5, 4, 7, 9, 8]]
    return out
