"""Shared by the shape tests: the built-in shape model, the template mesh at 5 mm, and synthetic
scans (a model shape, re-triangulated, moved and noised, so nothing corresponds by index)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from footdt.mesh.gmsh_session import VolumeMesh
from footdt.shape.ssm import SSM


@pytest.fixture(scope="session")
def builtin() -> SSM:
    from footdt.shape.ssm import builtin_ssm

    return builtin_ssm()


@pytest.fixture(scope="session")
def template5() -> VolumeMesh:
    from footdt.mesh.store import cached_template_mesh
    from footdt.spec.subject import MeshOptions

    return cached_template_mesh(MeshOptions(size=5.0))


def subdivide(points: np.ndarray, tris: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split every triangle into four at its edge midpoints (same surface, other vertices)."""
    edges = np.sort(tris[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    uniq, inv = np.unique(edges, axis=0, return_inverse=True)
    mid = len(points) + inv.reshape(-1, 3)
    a, b, c = tris.T
    ab, bc, ca = mid.T
    new = np.vstack([np.c_[a, ab, ca], np.c_[ab, b, bc], np.c_[ca, bc, c], np.c_[ab, bc, ca]])
    return np.vstack([points, points[uniq].mean(axis=1)]), new


def write_scan(
    path: Path,
    model: SSM,
    weights: np.ndarray,
    seed: int = 0,
    noise_mm: float = 0.05,
    scale: float = 1.0,
    mirror: bool = False,
) -> Path:
    """A scan file of the model shape ``weights``: subdivided, turned (up to ~25 deg), shifted,
    with Gaussian noise, optionally mirrored (a left foot) and in other units (``scale``)."""
    import meshio
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(seed)
    shape = model.reconstruct(weights)
    pts, tris = subdivide(shape.skin, shape.triangles)
    pts = pts + rng.normal(0.0, noise_mm, pts.shape)
    if mirror:
        pts, tris = pts * [1.0, -1.0, 1.0], tris[:, [0, 2, 1]]
    rot = Rotation.from_euler("xyz", rng.normal(0.0, [8.0, 8.0, 25.0]), degrees=True).as_matrix()
    pts = (pts @ rot.T + rng.normal(0.0, 50.0, 3)) * scale
    meshio.write(path, meshio.Mesh(pts, [("triangle", tris)]))
    return path
