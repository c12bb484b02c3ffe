"""Structured tetrahedral box meshes (six tets per hexahedron), without gmsh.

Used for fast, deterministic tests and as a mesher-independent check of the gmsh path.
"""

from __future__ import annotations

import numpy as np

from footdt.mesh.topology import boundary_faces, face_centroids_normals, orient_positive

# Kuhn subdivision of the unit cube (vertex ids: bit0 = x, bit1 = y, bit2 = z): 6 tets sharing the 0-7 diagonal.
_KUHN = np.array(
    [[0, 1, 3, 7], [0, 1, 5, 7], [0, 2, 3, 7], [0, 2, 6, 7], [0, 4, 5, 7], [0, 4, 6, 7]]
)


def box_tets(
    size: tuple[float, float, float],
    divisions: tuple[int, int, int],
    origin: tuple[float, float, float] = (0, 0, 0),
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (N, 3) and linear tets (M, 4) of an axis-aligned box, all with positive volume."""
    nx, ny, nz = divisions
    xs = [np.linspace(o, o + s, n + 1) for o, s, n in zip(origin, size, divisions, strict=True)]
    X, Y, Z = np.meshgrid(*xs, indexing="ij")
    nodes = np.column_stack([X.ravel(), Y.ravel(), Z.ravel()])

    def nid(i: np.ndarray, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        return (i * (ny + 1) + j) * (nz + 1) + k

    i, j, k = (
        a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    )
    corners = np.stack(
        [nid(i + (c & 1), j + ((c >> 1) & 1), k + ((c >> 2) & 1)) for c in range(8)], axis=1
    )
    elements = corners[:, _KUHN].reshape(-1, 4)
    return nodes, orient_positive(nodes, elements)


def box_faces(
    nodes: np.ndarray, elements: np.ndarray, lo: np.ndarray, hi: np.ndarray, tol: float = 1e-9
) -> dict[str, np.ndarray]:
    """Named boundary faces xmin..zmax of an axis-aligned box spanning ``lo``..``hi``."""
    faces = boundary_faces(elements)
    centroids, normals, _ = face_centroids_normals(nodes, elements, faces)
    out: dict[str, np.ndarray] = {}
    for axis, name in enumerate("xyz"):
        for side, bound, sign in (("min", lo[axis], -1.0), ("max", hi[axis], 1.0)):
            sel = (np.abs(centroids[:, axis] - bound) < tol * max(1.0, abs(bound)) + 1e-9) & (
                normals[:, axis] * sign > 0.5
            )
            out[f"{name}{side}"] = faces[sel]
    return out
