"""gmsh volumes from validated user surfaces: tissue = skin minus bones, bones = their shells.

Each closed surface becomes a discrete gmsh surface; ``classifySurfaces`` + ``createGeometry``
reparametrise them so they are remeshed at the requested size; the tissue volume is bounded by
the skin shell with one hole per bone shell, and each bone volume by its own shell, so bone and
tissue share the interface surfaces (a conforming mesh). Lengths in mm.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from footdt.anatomy.user_surfaces import UserGeometry
from footdt.domain import SOFT_TISSUE
from footdt.errors import MeshError
from footdt.spec.subject import MeshOptions

#: Feature angle (degrees) at which gmsh splits a surface into patches before reparametrising.
FEATURE_ANGLE = 40.0


def build_user_volumes(gmsh: Any, user: UserGeometry, options: MeshOptions) -> dict[int, str]:
    """Create skin and bone shells and their volumes in the current gmsh model."""
    shells = [(SOFT_TISSUE, user.skin), *user.bones.items()]
    offset = 0
    labels, points = [], []
    for k, (_, surface) in enumerate(shells):
        tag = gmsh.model.addDiscreteEntity(2)
        node_tags = np.arange(offset + 1, offset + 1 + len(surface.points))
        gmsh.model.mesh.addNodes(2, tag, node_tags.tolist(), surface.points.ravel().tolist())
        gmsh.model.mesh.addElementsByType(
            tag, 2, [], (surface.triangles + offset + 1).ravel().tolist()
        )
        offset += len(surface.points)
        labels.append(np.full(len(surface.points), k))
        points.append(surface.points)
    try:
        gmsh.model.mesh.classifySurfaces(math.radians(FEATURE_ANGLE), True, True, math.pi)
        gmsh.model.mesh.createGeometry()
    except Exception as exc:  # gmsh raises bare Exceptions
        raise MeshError(f"gmsh could not reparametrise the user surfaces: {exc}") from exc
    tree, label = cKDTree(np.vstack(points)), np.concatenate(labels)
    patches: dict[int, list[int]] = {k: [] for k in range(len(shells))}
    for _, stag in gmsh.model.getEntities(2):
        _, coords, _ = gmsh.model.mesh.getNodes(2, stag, includeBoundary=True)
        xyz = np.asarray(coords).reshape(-1, 3)
        if not len(xyz):
            continue
        _, idx = tree.query(xyz)
        patches[int(np.bincount(label[idx]).argmax())].append(stag)
    geo = gmsh.model.geo
    loops = {k: geo.addSurfaceLoop(tags) for k, tags in patches.items()}
    parts: dict[int, str] = {}
    for k, (name, _) in enumerate(shells[1:], start=1):
        parts[geo.addVolume([loops[k]])] = name
    parts[geo.addVolume([loops[0], *(loops[k] for k in range(1, len(shells)))])] = SOFT_TISSUE
    geo.synchronize()
    return parts
