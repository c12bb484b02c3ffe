"""Landmarks and named surfaces of a meshed foot (template or user surfaces). Units: mm.

Everything here is computed from the volume mesh alone (parts, nodes, boundary faces), so the
built-in template and a user's bone surfaces get the same definitions:

* landmarks are *support points* of a bone's surface nodes: the node furthest along a direction,
  optionally within a sub-region of the bone (e.g. the metatarsal head = its distal 25 %);
* the plantar surface is the outer boundary within ``contact_depth`` of the lowest skin point with
  a downward normal; it is split into the paper's four regions by ``domain.plantar_region``
  (lines across the foot at fractions of foot length, ``domain.PLANTAR_REGION_CUTS``) and into
  Footscan-like zones;
* ``achilles_insertion`` is a patch of calcaneus faces on the bone-tissue interface around the
  ``achilles_insertion_centre`` landmark (the Achilles force is spread over it).
"""

from __future__ import annotations

import numpy as np

from footdt.domain import (
    ACHILLES_INSERTION,
    ACHILLES_INSERTION_CENTRE,
    ANKLE_CENTRE,
    CALCANEUS,
    CALCANEUS_LATERAL_PROCESS,
    CALCANEUS_MEDIAL_PROCESS,
    FIBULA,
    FOREFOOT,
    HALLUX,
    HEEL_POSTERIOR,
    LATERAL_HEEL,
    LATERAL_MALLEOLUS,
    MEDIAL_HEEL,
    MEDIAL_MALLEOLUS,
    METATARSAL_HEAD_ZONES,
    METATARSAL_HEADS,
    METATARSALS,
    NAVICULAR,
    NAVICULAR_TUBEROSITY,
    PLANTAR,
    PLANTAR_REGIONS,
    PROXIMAL_CUT,
    REARFOOT,
    SKIN,
    SOFT_TISSUE,
    TIBIA,
    TOE_TIP,
    TOES,
    TOES_2_5,
    plantar_region,
)
from footdt.errors import MeshError
from footdt.ir import TET_FACES
from footdt.mesh.faces import boundary_faces, interface_faces
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.mesh.topology import face_centroids_normals

#: Hallux vs toes 2-5: fraction of the plantar width from the lateral border.
HALLUX_SPLIT = 0.66
#: Radius of the Achilles insertion patch as a fraction of foot length (~10 mm at 265 mm).
ACHILLES_RADIUS = 0.04


def _unit(v: tuple[float, float, float]) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    return a / np.linalg.norm(a)


def bone_surface_nodes(mesh: VolumeMesh, bone: str) -> np.ndarray:
    """Coordinates (N, 3) of the boundary nodes of a bone part."""
    elements = mesh.elements[mesh.parts[bone], :4]
    faces = boundary_faces(elements)
    tri = np.take_along_axis(elements[faces[:, 0]], np.asarray(TET_FACES)[faces[:, 1]], axis=1)
    return mesh.nodes[np.unique(tri)]


def support_point(points: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The point furthest along ``direction``."""
    return points[int(np.argmax(points @ direction))]


def foot_landmarks(mesh: VolumeMesh) -> dict[str, np.ndarray]:
    """Named landmarks (mm) for the bones present in the mesh (see ``domain.FOOT_LANDMARKS``)."""
    out: dict[str, np.ndarray] = {}
    surf = {bone: bone_surface_nodes(mesh, bone) for bone in mesh.parts if bone != SOFT_TISSUE}
    if CALCANEUS in surf:
        c = surf[CALCANEUS]
        x0, x1 = c[:, 0].min(), c[:, 0].max()
        z0, z1 = c[:, 2].min(), c[:, 2].max()
        back = c[c[:, 0] < x0 + 0.45 * (x1 - x0)]
        out[CALCANEUS_MEDIAL_PROCESS] = support_point(back, _unit((0.0, 0.5, -1.0)))
        out[CALCANEUS_LATERAL_PROCESS] = support_point(back, _unit((0.0, -0.5, -1.0)))
        band = c[(c[:, 2] > z0 + 0.35 * (z1 - z0)) & (c[:, 2] < z0 + 0.65 * (z1 - z0))]
        out[ACHILLES_INSERTION_CENTRE] = support_point(band, _unit((-1.0, 0.0, 0.0)))
    for bone, head_name in zip(METATARSALS, METATARSAL_HEADS, strict=True):
        if bone in surf:
            p = surf[bone]
            centred = p - p.mean(axis=0)
            axis = np.linalg.svd(centred, full_matrices=False)[2][0]
            axis = axis if axis[0] > 0 else -axis
            t = centred @ axis
            head = p[t > t.min() + 0.75 * (t.max() - t.min())]
            out[head_name] = support_point(head, _unit((0.5, 0.0, -1.0)))
    if TIBIA in surf:
        t = surf[TIBIA]
        low = t[t[:, 2] < t[:, 2].min() + 30.0]
        out[MEDIAL_MALLEOLUS] = support_point(low, np.array([0.0, 1.0, 0.0]))
    if FIBULA in surf:
        f = surf[FIBULA]
        low = f[f[:, 2] < f[:, 2].min() + 30.0]
        out[LATERAL_MALLEOLUS] = support_point(low, np.array([0.0, -1.0, 0.0]))
    if MEDIAL_MALLEOLUS in out and LATERAL_MALLEOLUS in out:
        out[ANKLE_CENTRE] = 0.5 * (out[MEDIAL_MALLEOLUS] + out[LATERAL_MALLEOLUS])
    if NAVICULAR in surf:
        out[NAVICULAR_TUBEROSITY] = support_point(surf[NAVICULAR], np.array([0.0, 1.0, 0.0]))
    outer = mesh.nodes[np.unique(_face_nodes(mesh, boundary_faces(mesh.elements)))]
    out[HEEL_POSTERIOR] = support_point(outer, np.array([-1.0, 0.0, 0.0]))
    out[TOE_TIP] = support_point(outer, np.array([1.0, 0.0, 0.0]))
    return {k: np.asarray(v, dtype=float).copy() for k, v in out.items()}


def _face_nodes(mesh: VolumeMesh, faces: np.ndarray) -> np.ndarray:
    return np.take_along_axis(
        mesh.elements[faces[:, 0], :4], np.asarray(TET_FACES)[faces[:, 1]], axis=1
    )


def foot_surfaces(
    mesh: VolumeMesh, landmarks: dict[str, np.ndarray], contact_depth: float = 0.5
) -> dict[str, np.ndarray]:
    """Named (element, face) surfaces: skin, plantar, regions, zones, proximal cut, Achilles patch.

    ``contact_depth`` (mm): plantar faces lie within this height of the lowest skin point (0.5 mm
    suits the template's flat sole; a scanned unloaded sole needs a few mm).
    """
    faces = boundary_faces(mesh.elements)
    cen, nrm, _ = face_centroids_normals(mesh.nodes, mesh.elements, faces)
    z_top = cen[:, 2].max()
    top = (nrm[:, 2] > 0.9) & (cen[:, 2] > z_top - 0.5)
    skin = ~top
    z0 = cen[skin, 2].min()
    plantar = skin & (nrm[:, 2] < -0.5) & (cen[:, 2] < z0 + contact_depth)
    out: dict[str, np.ndarray] = {
        SKIN: faces[skin],
        PLANTAR: faces[plantar],
        PROXIMAL_CUT: faces[top],
    }
    x0, x1 = cen[skin, 0].min(), cen[skin, 0].max()
    length = x1 - x0
    if not plantar.any():
        raise MeshError(
            f"no downward-facing skin within contact_depth {contact_depth:g} mm of the lowest skin "
            "point: is the foot upright (z up, sole at the bottom)?"
        )
    pc = cen[plantar]
    y0, y1 = pc[:, 1].min(), pc[:, 1].max()  # lateral (-y) and medial (+y) borders, right foot
    region = plantar_region((pc[:, 0] - x0) / length, (pc[:, 1] - y0) / (y1 - y0))
    pf = faces[plantar]
    for i, name in enumerate(PLANTAR_REGIONS):
        out[name] = pf[region == i]
    heel = region == PLANTAR_REGIONS.index(REARFOOT)
    heel_mid = float(np.mean(pc[heel, 1])) if heel.any() else 0.5 * (y0 + y1)
    out[MEDIAL_HEEL] = pf[heel & (pc[:, 1] >= heel_mid)]
    out[LATERAL_HEEL] = pf[heel & (pc[:, 1] < heel_mid)]
    toes = region == PLANTAR_REGIONS.index(TOES)
    split = y0 + HALLUX_SPLIT * (y1 - y0)
    out[HALLUX] = pf[toes & (pc[:, 1] >= split)]
    out[TOES_2_5] = pf[toes & (pc[:, 1] < split)]
    heads = [landmarks.get(h) for h in METATARSAL_HEADS]
    if all(h is not None for h in heads):
        hy = np.array([h[1] for h in heads if h is not None])
        nearest = np.argmin(np.abs(pc[:, 1][:, None] - hy[None, :]), axis=1)
        for i, zone in enumerate(METATARSAL_HEAD_ZONES):
            out[zone] = pf[(region == PLANTAR_REGIONS.index(FOREFOOT)) & (nearest == i)]
    if ACHILLES_INSERTION_CENTRE in landmarks and CALCANEUS in mesh.parts:
        out[ACHILLES_INSERTION] = achilles_patch(
            mesh, landmarks[ACHILLES_INSERTION_CENTRE], ACHILLES_RADIUS * length
        )
    return out


def achilles_patch(mesh: VolumeMesh, centre: np.ndarray, radius: float) -> np.ndarray:
    """Calcaneus faces on the bone-tissue interface within ``radius`` of ``centre``, facing back."""
    in_calc = np.zeros(len(mesh.elements), dtype=bool)
    in_calc[mesh.parts[CALCANEUS]] = True
    faces = interface_faces(mesh.elements, in_calc)
    cen, nrm, _ = face_centroids_normals(mesh.nodes, mesh.elements, faces)
    near = (np.linalg.norm(cen - centre, axis=1) < radius) & (nrm[:, 0] < -0.2)
    return faces[near]
