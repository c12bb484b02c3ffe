"""Mesh topology in numpy: face geometry and orientation fixes (face matching: ``faces.py``)."""

from __future__ import annotations

import numpy as np

from footdt.ir import TET_FACES
from footdt.mechanics import tet_volumes
from footdt.mesh.faces import boundary_faces, interface_faces

__all__ = ["boundary_faces", "face_centroids_normals", "interface_faces", "orient_positive"]


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
