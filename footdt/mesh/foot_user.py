"""gmsh volumes from validated user surfaces: tissue = skin minus bones, bones = their shells.

Each surface becomes a discrete gmsh surface; ``classifySurfaces`` + ``createGeometry``
reparametrise them so they are remeshed at the requested size; the tissue volume is bounded by
the skin shell with one hole per bone shell, and each bone volume by its own shell, so bone and
tissue share the interface surfaces (a conforming mesh). Lengths in mm.

With a proximal cut (``UserGeometry.cut_z``) the skin, tibia and fibula arrive open, ending on
the cut plane (their planar fans are not meshed). Their outlines in the plane become gmsh
curves; the cut faces are plane surfaces on those curves: one per cut bone, and the tissue's
(the skin outline with a hole per bone outline). The tissue's outer shell is then the skin, the
tissue's cut face and the sides of the cut bones; a cut bone's shell is its sides and its cut
face. Bone and tissue cut faces share the outline curves, so the cut is conforming too, and
all of them lie in the plane, where ``landmarks.foot_surfaces`` finds the ``proximal_cut``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from footdt.anatomy.user_surfaces import TriSurface, UserGeometry
from footdt.domain import SKIN, SOFT_TISSUE
from footdt.errors import MeshError
from footdt.spec.subject import MeshOptions

#: Feature angle (degrees) at which gmsh splits a surface into patches before reparametrising.
FEATURE_ANGLE = 40.0


def _sides(surface: TriSurface) -> tuple[np.ndarray, np.ndarray]:
    """Points and triangles of a surface without the fan closing its cut (unused points dropped)."""
    tris = surface.sides()
    used = np.unique(tris)
    index = np.full(len(surface.points), -1, dtype=np.int64)
    index[used] = np.arange(len(used))
    return surface.points[used], index[tris]


def build_user_volumes(gmsh: Any, user: UserGeometry, options: MeshOptions) -> dict[int, str]:
    """Create skin and bone shells (and the cut faces) and their volumes in the current model."""
    shells = [(SOFT_TISSUE, user.skin), *user.bones.items()]
    offset = 0
    labels, points = [], []
    for k, (_, surface) in enumerate(shells):
        xyz, tris = _sides(surface)
        tag = gmsh.model.addDiscreteEntity(2)
        node_tags = np.arange(offset + 1, offset + 1 + len(xyz))
        gmsh.model.mesh.addNodes(2, tag, node_tags.tolist(), xyz.ravel().tolist())
        gmsh.model.mesh.addElementsByType(tag, 2, [], (tris + offset + 1).ravel().tolist())
        offset += len(xyz)
        labels.append(np.full(len(xyz), k))
        points.append(xyz)
    try:
        gmsh.model.mesh.classifySurfaces(math.radians(FEATURE_ANGLE), True, True, math.pi)
        gmsh.model.mesh.createGeometry()
    except Exception as exc:  # gmsh raises bare Exceptions
        raise MeshError(f"gmsh could not reparametrise the user surfaces: {exc}") from exc
    tree, label = cKDTree(np.vstack(points)), np.concatenate(labels)

    def owner(dim: int, tag: int) -> int | None:
        _, coords, _ = gmsh.model.mesh.getNodes(dim, tag, includeBoundary=True)
        xyz = np.asarray(coords).reshape(-1, 3)
        if not len(xyz):
            return None
        return int(np.bincount(label[tree.query(xyz)[1]]).argmax())

    patches: dict[int, list[int]] = {k: [] for k in range(len(shells))}
    for _, stag in gmsh.model.getEntities(2):
        shell = owner(2, stag)
        if shell is not None:
            patches[shell].append(stag)
    geo = gmsh.model.geo
    cut = [k for k, (_, s) in enumerate(shells) if s.n_cap] if user.cut_z is not None else []
    caps = _cut_faces(gmsh, user, cut, owner) if cut else {}
    loops = {k: geo.addSurfaceLoop(tags + caps.get(k, [])) for k, tags in patches.items()}
    if cut:  # the tissue's outer shell: skin, its cut face and the sides of the cut bones
        outer = patches[0] + caps[0] + [t for k in cut[1:] for t in patches[k]]
        loops[0] = geo.addSurfaceLoop(outer)
    parts: dict[int, str] = {}
    for k, (name, _) in enumerate(shells[1:], start=1):
        parts[geo.addVolume([loops[k]])] = name
    holes = [loops[k] for k in range(1, len(shells)) if k not in cut]
    parts[geo.addVolume([loops[0], *holes])] = SOFT_TISSUE
    geo.synchronize()
    return parts


def _cut_faces(gmsh: Any, user: UserGeometry, cut: list[int], owner: Any) -> dict[int, list[int]]:
    """Plane surfaces of the proximal cut: one per cut bone, the tissue's with a hole per bone.

    ``cut`` lists the shells ending on the plane (0 = skin first); returns shell -> surfaces.
    """
    assert user.cut_z is not None
    tol = 1e-6 * max(1.0, float(np.ptp(user.skin.points, axis=0).max()))
    outline: dict[int, list[int]] = {k: [] for k in cut}
    for _, ctag in gmsh.model.getEntities(1):
        _, coords, _ = gmsh.model.mesh.getNodes(1, ctag, includeBoundary=True)
        z = np.asarray(coords).reshape(-1, 3)[:, 2]
        if len(z) and np.abs(z - user.cut_z).max() <= tol:
            k = owner(1, ctag)
            if k in outline:
                outline[k].append(ctag)
    geo = gmsh.model.geo
    curve_loops = {}
    for k, curves in outline.items():
        if not curves:
            raise MeshError(
                f"gmsh lost the outline of the {SKIN if k == 0 else 'bone'} in the proximal "
                f"cut plane z = {user.cut_z:.1f} mm while reparametrising; try another mesh size"
            )
        curve_loops[k] = geo.addCurveLoop(curves, reorient=True)
    caps = {k: [geo.addPlaneSurface([curve_loops[k]])] for k in cut[1:]}
    caps[0] = [geo.addPlaneSurface([curve_loops[0], *(curve_loops[k] for k in cut[1:])])]
    return caps
