"""Morph a template volume mesh (bones and soft tissue together) with an FFD lattice. Units: mm.

Every node moves through the same lattice, so the morphed mesh keeps the template's topology:
node ``i`` of every subject is node ``i`` of the template (same elements, parts, named surfaces,
solver sparsity). Mid-edge nodes of quadratic tets are mapped like every other node, so edges
stay close to straight for smooth lattices.

``morph_report`` measures the result: distance of the morphed skin nodes to the target skin,
volume change of every part, and element quality (``footdt.mesh.quality``); ``check_morph``
refuses a morph that inverts elements or fails the quality gate.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from footdt.domain import PROXIMAL_CUT, SKIN
from footdt.errors import MeshError
from footdt.ir import TET10_FACE_MIDSIDES
from footdt.mechanics import tet_volumes
from footdt.mesh.faces import boundary_faces, face_triangles
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.mesh.quality import (
    QualityLimits,
    QualityReport,
    check_quality,
    dihedral_angles,
    quality_report,
)
from footdt.shape.distance import DistanceStats, TriangleSurface
from footdt.shape.ffd import Lattice, SurfaceFit, fit_ffd_to_surface

TargetSurface = TriangleSurface | tuple[np.ndarray, np.ndarray]
REMESH_HINT = (
    "set `remesh: true` in the geometry of the subject spec (or run `footdt personalise --remesh`)"
)


def skin_faces(mesh: VolumeMesh) -> np.ndarray:
    """(K, 2) skin faces: the named ``skin`` surface, else the boundary minus ``proximal_cut``."""
    if SKIN in mesh.surfaces:
        return np.asarray(mesh.surfaces[SKIN], dtype=np.int64)
    faces = boundary_faces(mesh.elements)
    cut = np.asarray(mesh.surfaces.get(PROXIMAL_CUT, np.zeros((0, 2))), dtype=np.int64)
    if not len(cut):
        return faces
    keep = ~np.isin(faces[:, 0] * 4 + faces[:, 1], cut[:, 0] * 4 + cut[:, 1])
    return faces[keep]


def skin_surface(mesh: VolumeMesh) -> tuple[np.ndarray, np.ndarray]:
    """Skin node ids (S,) (mid-edge nodes included for tetra10) and corner triangles (T, 3)
    indexing into those ids."""
    faces = skin_faces(mesh)
    tri = face_triangles(mesh.elements, faces)
    ids = [tri.ravel()]
    if mesh.elements.shape[1] == 10:
        mids = np.asarray(TET10_FACE_MIDSIDES)[faces[:, 1]]
        ids.append(np.take_along_axis(mesh.elements[faces[:, 0]], mids, axis=1).ravel())
    nodes = np.unique(np.concatenate(ids))
    return nodes, np.searchsorted(nodes, tri)


def morph_mesh(mesh: VolumeMesh, lattice: Lattice) -> VolumeMesh:
    """A new mesh with every node (and landmark) moved through ``lattice``; same topology.

    The template's CAD volumes are dropped from ``info`` (they describe the template's shape);
    ``info["morph"]`` records the lattice.
    """
    info = {k: copy.deepcopy(v) for k, v in mesh.info.items() if k not in ("cad_volumes",)}
    info["morph"] = {
        "lattice_shape": list(lattice.shape),
        "degrees": list(lattice.degrees),
        "box_lo_mm": [float(v) for v in lattice.lo],
        "box_hi_mm": [float(v) for v in lattice.hi],
        "max_control_displacement_mm": float(np.linalg.norm(lattice.displacements, axis=-1).max()),
    }
    names = list(mesh.landmarks)
    moved_landmarks = (
        lattice.apply(np.stack([mesh.landmarks[k] for k in names])) if names else np.zeros((0, 3))
    )
    return VolumeMesh(
        nodes=lattice.apply(mesh.nodes),
        elements=mesh.elements.copy(),
        cell_type=mesh.cell_type,
        parts={k: v.copy() for k, v in mesh.parts.items()},
        surfaces={k: v.copy() for k, v in mesh.surfaces.items()},
        landmarks={k: moved_landmarks[i].copy() for i, k in enumerate(names)},
        info=info,
    )


def morph_to_surface(
    mesh: VolumeMesh,
    target_surface: TargetSurface,
    lattice_shape: Sequence[int] = (8, 5, 5),
    *,
    pad: float = 10.0,
    two_sided: bool = True,
    **fit_options: Any,
) -> tuple[VolumeMesh, SurfaceFit]:
    """Fit a lattice over the whole mesh (box padded by ``pad`` mm) that moves the template's
    skin onto ``target_surface`` and morph the mesh with it; options go to
    ``fit_ffd_to_surface``. ``two_sided`` (default) also matches target vertices back to the
    template skin: without it, skin nodes can slide along the target (the rim of the open
    proximal cut by 20 mm in a test) while still lying on it; it costs about twice the time."""
    nodes, tri = skin_surface(mesh)
    box = (mesh.nodes.min(axis=0) - pad, mesh.nodes.max(axis=0) + pad)
    fit = fit_ffd_to_surface(
        mesh.nodes[nodes],
        target_surface,
        lattice_shape,
        box=box,
        source_triangles=tri if two_sided else None,
        **fit_options,
    )
    return morph_mesh(mesh, fit.lattice), fit


@dataclass(frozen=True)
class WorstElement:
    element: int  # 0-based
    part: str
    min_dihedral_deg: float
    inverted: bool


@dataclass
class MorphReport:
    """Skin distance (mm), part volume change (%) and element quality of a morphed mesh."""

    skin: DistanceStats
    skin_nodes: int
    volume_change_pct: dict[str, float]
    quality: QualityReport
    worst: list[WorstElement] = field(default_factory=list)
    landmark_shift_mm: dict[str, float] = field(default_factory=dict)
    skin_distances: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "skin_distance_mm": asdict(self.skin),
            "skin_nodes": self.skin_nodes,
            "volume_change_pct": dict(self.volume_change_pct),
            "inverted": self.quality.overall.inverted,
            "min_dihedral_deg": self.quality.overall.min_dihedral_deg,
            "worst_elements": [asdict(w) for w in self.worst],
            "landmark_shift_mm": dict(self.landmark_shift_mm),
            "quality": self.quality.as_dict(),
        }

    def format_table(self) -> str:
        s = self.skin
        rows = [
            f"skin -> target distance (mm, {self.skin_nodes} nodes): mean {s.mean:.3f}  "
            f"p95 {s.p95:.3f}  max {s.max:.3f}",
            f"{'part':24s} {'volume change':>14s} {'min dihedral':>12s} {'inverted':>8s}",
        ]
        for name, change in self.volume_change_pct.items():
            q = self.quality.parts[name]
            rows.append(f"{name:24s} {change:13.2f}% {q.min_dihedral_deg:11.2f}° {q.inverted:8d}")
        return "\n".join(rows)


def _part_of(mesh: VolumeMesh) -> np.ndarray:
    names = np.full(len(mesh.elements), "", dtype=object)
    for name, ids in mesh.parts.items():
        names[ids] = name
    return names


def morph_report(
    template: VolumeMesh, morphed: VolumeMesh, target_surface: TargetSurface
) -> MorphReport:
    """Measure a morph: morphed skin nodes -> target surface distance, per-part volume change
    (straight-sided corner volumes, as in ``footdt.mesh.quality``), element quality."""
    if morphed.elements.shape != template.elements.shape:
        raise ValueError("morphed mesh and template must share their elements")
    target = (
        target_surface
        if isinstance(target_surface, TriangleSurface)
        else TriangleSurface(*target_surface)
    )
    nodes, _ = skin_surface(template)
    distances = target.query(morphed.nodes[nodes]).distances
    skin = DistanceStats.of(distances)
    v0 = tet_volumes(template.nodes, template.elements)
    quality = quality_report(morphed)  # its part volumes are the morphed sums of tet volumes
    change = {
        name: float(100.0 * (quality.parts[name].volume / v0[ids].sum() - 1.0))
        for name, ids in template.parts.items()
    }
    part_of = _part_of(morphed)
    worst: list[WorstElement] = []
    for q in quality.parts.values():
        ids = np.asarray(q.worst, dtype=np.int64)
        if not len(ids):
            continue
        angles = dihedral_angles(morphed.nodes, morphed.elements[ids]).min(axis=1)
        worst += [
            WorstElement(int(e), str(part_of[e]), float(a), k < q.inverted)
            for k, (e, a) in enumerate(zip(ids, angles, strict=True))
        ]
    worst.sort(key=lambda w: (not w.inverted, w.min_dihedral_deg))
    shift = {
        k: float(np.linalg.norm(morphed.landmarks[k] - template.landmarks[k]))
        for k in template.landmarks
        if k in morphed.landmarks
    }
    return MorphReport(skin, len(nodes), change, quality, worst, shift, distances)


def check_morph(
    report: MorphReport,
    limits: QualityLimits | None = None,
    *,
    max_skin_p95: float | None = None,
) -> None:
    """Raise ``MeshError`` (one line) if the morph inverted elements, fails the quality gate of
    ``footdt.mesh.quality`` (``limits``) or, when ``max_skin_p95`` (mm) is given, leaves the skin
    further than that from the target (95th percentile)."""
    failing = []
    for name, q in report.quality.parts.items():
        try:
            check_quality(QualityReport({name: q}, q, report.quality.sliver_angle_deg), limits)
        except MeshError:
            failing.append(name)
    if failing:
        bad = [report.quality.parts[n] for n in failing]
        inverted = sum(q.inverted for q in bad)
        worst = [w for w in report.worst if w.part in failing][:3]
        names = ", ".join(repr(n) for n in failing)
        listed = ", ".join(
            f"element {w.element} ({w.part}, min dihedral {w.min_dihedral_deg:.2f}°"
            + (", inverted)" if w.inverted else ")")
            for w in worst
        )
        what = (
            f"inverts {inverted} element(s)"
            if inverted
            else f"fails the mesh quality gate (min dihedral "
            f"{min(q.min_dihedral_deg for q in bad):.2f}°, {sum(q.slivers for q in bad)} "
            f"sliver(s), min gamma {min(q.gamma_min for q in bad):.3g}, volume error "
            f"{max(q.volume_error for q in bad):.2g})"
        )
        raise MeshError(
            f"morph {what} in part(s) {names}; worst: {listed}; the subject is too far from the "
            f"template for a morph: {REMESH_HINT}"
        )
    if max_skin_p95 is not None and report.skin.p95 > max_skin_p95:
        raise MeshError(
            f"morph leaves the skin {report.skin.p95:.2f} mm from the target (95th percentile) "
            f"> {max_skin_p95:g} mm: use a finer lattice or less smoothing, or {REMESH_HINT}"
        )
