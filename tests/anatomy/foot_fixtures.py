"""Shared, cached foot meshes and simple closed surfaces for the anatomy and mesh tests."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from footdt.mesh.gmsh_session import VolumeMesh
from tests.conftest import SHARED_DATA

OPENSIM_DIR = SHARED_DATA / "opensim_foot_geometry"
TEMPLATE_SIZE = 5.0


@lru_cache(maxsize=1)
def template_mesh() -> VolumeMesh:
    """The default template meshed at 5 mm (built once per test session, ~10-15 s)."""
    from footdt.mesh.foot import mesh_foot
    from footdt.spec.geometry import FootTemplate
    from footdt.spec.subject import MeshOptions

    return mesh_foot(FootTemplate(type="foot_template"), MeshOptions(size=TEMPLATE_SIZE))


def icosphere(
    radius: float, centre: tuple[float, float, float] = (0, 0, 0), level: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """A closed, outward-oriented triangulated sphere (points, triangles)."""
    t = (1 + 5**0.5) / 2
    v = np.array(
        [
            [-1, t, 0],
            [1, t, 0],
            [-1, -t, 0],
            [1, -t, 0],
            [0, -1, t],
            [0, 1, t],
            [0, -1, -t],
            [0, 1, -t],
            [t, 0, -1],
            [t, 0, 1],
            [-t, 0, -1],
            [-t, 0, 1],
        ],
        dtype=float,
    )
    f = [
        [0, 11, 5],
        [0, 5, 1],
        [0, 1, 7],
        [0, 7, 10],
        [0, 10, 11],
        [1, 5, 9],
        [5, 11, 4],
        [11, 10, 2],
        [10, 7, 6],
        [7, 1, 8],
        [3, 9, 4],
        [3, 4, 2],
        [3, 2, 6],
        [3, 6, 8],
        [3, 8, 9],
        [4, 9, 5],
        [2, 4, 11],
        [6, 2, 10],
        [8, 6, 7],
        [9, 8, 1],
    ]
    verts = list(v / np.linalg.norm(v, axis=1)[:, None])
    for _ in range(level):
        cache: dict[tuple[int, int], int] = {}
        f = [g for a, b, c in f for g in _split(verts, cache, a, b, c)]
    return np.array(verts) * radius + np.asarray(centre, dtype=float), np.array(f, dtype=np.int64)


def _split(
    verts: list, cache: dict[tuple[int, int], int], a: int, b: int, c: int
) -> list[list[int]]:
    """Split a triangle into four, adding (cached) mid-edge vertices on the unit sphere."""

    def mid(i: int, j: int) -> int:
        key = (min(i, j), max(i, j))
        if key not in cache:
            m = verts[i] + verts[j]
            cache[key] = len(verts)
            verts.append(m / np.linalg.norm(m))
        return cache[key]

    ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
    return [[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]


def write_surface(path: Path, points: np.ndarray, triangles: np.ndarray) -> Path:
    import meshio

    meshio.write_points_cells(path, points, [("triangle", triangles.astype(np.int32))])
    return path
