"""Mesh quality report and gate: dihedral angles, gamma, inverted elements, slivers, volumes.

Measures, per part and overall (angles in degrees, volumes in mm^3):

* ``min_dihedral_deg``: the smallest dihedral angle of the straight-sided (corner) tetrahedra;
* ``gamma``: 3 * inradius / circumradius (1 for a regular tetrahedron, 0 for a degenerate one;
  the same normalised radius ratio gmsh calls gamma);
* ``inverted``: elements with volume <= 0 (for quadratic tets: a Jacobian determinant <= 0 at any
  of the 10 nodes);
* ``slivers``: elements with a dihedral angle below ``QualityLimits.sliver_angle_deg``;
* ``volume_error``: relative difference between the sum of element volumes and the volume enclosed
  by the part's boundary triangles (divergence theorem). They agree to round-off for a valid mesh;
  folded or overlapping elements make them differ. When the mesh carries the CAD volume of its
  parts (``mesh.info["cad_volumes"]``) the discretisation error against it is reported too.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np

from footdt.errors import MeshError
from footdt.ir import TET_FACES
from footdt.mechanics import tet_volumes
from footdt.mesh.faces import boundary_faces, part_boundary_faces
from footdt.mesh.gmsh_session import VolumeMesh


@dataclass(frozen=True)
class QualityLimits:
    min_dihedral_deg: float = 1.0
    sliver_angle_deg: float = 5.0
    max_sliver_fraction: float = 0.01
    min_gamma: float = 0.01
    volume_tolerance: float = 1e-6
    cad_volume_tolerance: float = 0.20  # coarse meshes of thin bones lose volume (docs/anatomy.md)


@dataclass
class PartQuality:
    elements: int
    min_dihedral_deg: float
    gamma_min: float
    gamma_mean: float
    inverted: int
    slivers: int
    volume: float
    surface_volume: float
    volume_error: float
    cad_volume_error: float | None
    worst: list[int] = field(default_factory=list)  # element ids, worst dihedral first


@dataclass
class QualityReport:
    parts: dict[str, PartQuality]
    overall: PartQuality
    sliver_angle_deg: float

    def as_dict(self) -> dict[str, object]:
        return {
            "sliver_angle_deg": self.sliver_angle_deg,
            "overall": asdict(self.overall),
            "parts": {k: asdict(v) for k, v in self.parts.items()},
        }

    def format_table(self) -> str:
        head = (
            f"{'part':24s} {'elements':>9s} {'min dihedral':>12s} {'gamma min':>9s} {'gamma mean':>10s} "
            f"{'inverted':>8s} {'slivers':>7s} {'volume mm3':>12s} {'vol err':>8s} {'vs CAD':>7s}"
        )
        rows = [head, "-" * len(head)]
        for name, q in [*self.parts.items(), ("overall", self.overall)]:
            cad = (
                f"{100 * q.cad_volume_error:6.2f}%" if q.cad_volume_error is not None else "      -"
            )
            rows.append(
                f"{name:24s} {q.elements:9d} {q.min_dihedral_deg:11.2f}° {q.gamma_min:9.3f} {q.gamma_mean:10.3f} "
                f"{q.inverted:8d} {q.slivers:7d} {q.volume:12.0f} {q.volume_error:8.1e} {cad}"
            )
        return "\n".join(rows)


def dihedral_angles(nodes: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """(M, 6) dihedral angles (degrees) of straight-sided tets (corner nodes).

    Column (i, j) in the order (0,1), (0,2), (0,3), (1,2), (1,3), (2,3) is the angle between the
    faces opposite vertices i and j. The face normals are the gradients of the barycentric
    coordinates scaled by 6V (e2 x e3, e3 x e1, e1 x e2 and minus their sum, with ek = xk - x0):
    all point inwards, or all outwards for an inverted element, so the angle needs no sign fix.
    """
    p = nodes[elements[:, :4]]
    e1, e2, e3 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]
    g = np.empty((len(p), 4, 3))
    g[:, 1], g[:, 2], g[:, 3] = np.cross(e2, e3), np.cross(e3, e1), np.cross(e1, e2)
    g[:, 0] = -(g[:, 1] + g[:, 2] + g[:, 3])
    g /= np.sqrt(np.einsum("mki,mki->mk", g, g))[:, :, None] + 1e-300
    i, j = np.array([0, 0, 0, 1, 1, 2]), np.array([1, 2, 3, 2, 3, 3])
    cos = -np.einsum("mki,mki->mk", g[:, i], g[:, j])
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def gamma(nodes: np.ndarray, elements: np.ndarray, volumes: np.ndarray | None = None) -> np.ndarray:
    """3 * inradius / circumradius of straight-sided tets (1 regular, 0 degenerate)."""
    p = nodes[elements[:, :4]]
    vol = np.abs(tet_volumes(nodes, elements) if volumes is None else volumes)
    area = sum(
        0.5 * np.linalg.norm(np.cross(p[:, f[1]] - p[:, f[0]], p[:, f[2]] - p[:, f[0]]), axis=1)
        for f in TET_FACES
    )
    r_in = 3.0 * vol / np.maximum(area, 1e-300)
    d = lambda i, j: np.linalg.norm(p[:, i] - p[:, j], axis=1)  # noqa: E731
    aa, bb, cc = d(0, 1) * d(2, 3), d(0, 2) * d(1, 3), d(0, 3) * d(1, 2)
    prod = (aa + bb + cc) * (aa + bb - cc) * (aa - bb + cc) * (-aa + bb + cc)
    r_circ = np.sqrt(np.maximum(prod, 0.0)) / np.maximum(24.0 * vol, 1e-300)
    return np.where(vol > 0, 3.0 * r_in / np.maximum(r_circ, 1e-300), 0.0)


def _tet10_min_jacobian(nodes: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Smallest Jacobian determinant of quadratic tets over their 10 nodes."""
    ref = np.array(
        [
            [0, 0, 0],
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
            [0.5, 0, 0],
            [0.5, 0.5, 0],
            [0, 0.5, 0],
            [0, 0, 0.5],
            [0.5, 0, 0.5],
            [0, 0.5, 0.5],
        ]
    )
    edges = [(0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)]
    x = nodes[elements]  # (M, 10, 3)
    dets = []
    for xi in ref:
        lam = np.array([1 - xi.sum(), *xi])
        dlam = np.array([[-1, -1, -1], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
        dn = [(4 * lam[i] - 1) * dlam[i] for i in range(4)]
        dn += [4 * (lam[i] * dlam[j] + lam[j] * dlam[i]) for i, j in edges]
        jac = np.einsum("mai,aj->mij", x, np.array(dn))
        dets.append(np.linalg.det(jac))
    return np.min(dets, axis=0)


def _enclosed_volume(nodes: np.ndarray, elements: np.ndarray, faces: np.ndarray) -> float:
    """Volume enclosed by the (element, local face) pairs ``faces`` (divergence theorem)."""
    tri = np.take_along_axis(elements[faces[:, 0], :4], np.asarray(TET_FACES)[faces[:, 1]], axis=1)
    p = nodes[tri]
    # TET_FACES normals point into the element: the enclosed volume is minus the usual sum
    return float(-np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6.0)


#: Boundary faces of recent meshes' parts, by a digest of their topology: a morphed mesh has its
#: template's topology, and personalisation checks several morphs of one template.
_BOUNDARIES: OrderedDict[bytes, tuple[dict[str, np.ndarray], np.ndarray]] = OrderedDict()


def _global(ids: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Boundary faces of the sub-mesh ``elements[ids]``, with global element numbers."""
    local = boundary_faces(elements[ids])
    return np.column_stack([ids[local[:, 0]], local[:, 1]])


def _boundaries(mesh: VolumeMesh) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-part and outer boundary faces of ``mesh`` (cached by topology)."""
    h = hashlib.blake2b(np.ascontiguousarray(mesh.elements[:, :4]).tobytes(), digest_size=16)
    for name, ids in mesh.parts.items():
        h.update(name.encode())
        h.update(np.ascontiguousarray(ids, dtype=np.int64).tobytes())
    key = h.digest()
    if key in _BOUNDARIES:
        _BOUNDARIES.move_to_end(key)
        return _BOUNDARIES[key]
    try:
        found = part_boundary_faces(mesh.elements, mesh.parts)
    except ValueError:  # overlapping parts: each on its own
        found = ({k: _global(np.asarray(ids), mesh.elements) for k, ids in mesh.parts.items()},
                 boundary_faces(mesh.elements))  # fmt: skip
    _BOUNDARIES[key] = found
    while len(_BOUNDARIES) > 4:
        _BOUNDARIES.popitem(last=False)
    return found


@dataclass(frozen=True)
class _ElementMeasures:
    """Per-element measures of a whole mesh, computed once and sliced per part."""

    dihedral: np.ndarray  # smallest dihedral angle per element, degrees
    gamma: np.ndarray
    volume: np.ndarray
    bad: np.ndarray  # inverted (volume <= 0, or a quadratic tet's Jacobian <= 0)

    @classmethod
    def of(cls, mesh: VolumeMesh) -> _ElementMeasures:
        el = mesh.elements
        vol = tet_volumes(mesh.nodes, el)
        bad = vol <= 0
        if el.shape[1] == 10:
            bad |= _tet10_min_jacobian(mesh.nodes, el) <= 0
        return cls(
            dihedral_angles(mesh.nodes, el).min(axis=1), gamma(mesh.nodes, el, vol), vol, bad
        )


def _part_quality(
    mesh: VolumeMesh,
    ids: np.ndarray,
    faces: np.ndarray,
    m: _ElementMeasures,
    sliver: float,
    cad: float | None,
) -> PartQuality:
    dihedral, g, vol, bad = m.dihedral[ids], m.gamma[ids], m.volume[ids], m.bad[ids]
    total, enclosed = float(vol.sum()), _enclosed_volume(mesh.nodes, mesh.elements, faces)
    worst = ids[np.argsort(np.where(bad, -1.0, dihedral))[:5]].tolist()
    return PartQuality(
        elements=len(ids),
        min_dihedral_deg=float(dihedral.min()),
        gamma_min=float(g.min()),
        gamma_mean=float(g.mean()),
        inverted=int(bad.sum()),
        slivers=int((dihedral < sliver).sum()),
        volume=total,
        surface_volume=enclosed,
        volume_error=abs(total - enclosed) / max(abs(enclosed), 1e-300),
        cad_volume_error=None if cad is None else abs(total - cad) / cad,
        worst=worst,
    )


def quality_report(
    mesh: VolumeMesh, sliver_angle_deg: float = QualityLimits.sliver_angle_deg
) -> QualityReport:
    """Quality of every part and of the whole mesh."""
    cad = mesh.info.get("cad_volumes", {})
    m = _ElementMeasures.of(mesh)
    faces, outer = _boundaries(mesh)
    parts = {
        name: _part_quality(mesh, np.asarray(ids), faces[name], m, sliver_angle_deg, cad.get(name))
        for name, ids in mesh.parts.items()
    }
    every = np.arange(len(mesh.elements))
    overall = _part_quality(mesh, every, outer, m, sliver_angle_deg, None)
    return QualityReport(parts=parts, overall=overall, sliver_angle_deg=sliver_angle_deg)


def check_quality(report: QualityReport, limits: QualityLimits | None = None) -> None:
    """Raise ``MeshError`` (one line: part, problem, worst elements) if a limit is not met."""
    lim = limits or QualityLimits()
    for name, q in report.parts.items():
        worst = ", ".join(map(str, q.worst[:3]))
        problem = None
        if q.inverted:
            problem = f"{q.inverted} inverted element(s) (volume or Jacobian <= 0)"
        elif q.min_dihedral_deg < lim.min_dihedral_deg:
            problem = f"min dihedral angle {q.min_dihedral_deg:.2f}° < {lim.min_dihedral_deg:g}°"
        elif q.slivers > lim.max_sliver_fraction * q.elements:
            problem = f"{q.slivers} slivers (dihedral < {report.sliver_angle_deg:g}°) > {100 * lim.max_sliver_fraction:g}% of elements"
        elif q.gamma_min < lim.min_gamma:
            problem = f"min gamma {q.gamma_min:.3g} < {lim.min_gamma:g}"
        elif q.volume_error > lim.volume_tolerance:
            problem = (
                f"element volumes {100 * q.volume_error:.3g}% off its enclosed volume (folded mesh)"
            )
        elif q.cad_volume_error is not None and q.cad_volume_error > lim.cad_volume_tolerance:
            problem = f"a volume {100 * q.cad_volume_error:.1f}% off the CAD volume (too coarse for its shape)"
        if problem:
            raise MeshError(
                f"mesh quality: part {name!r} has {problem}; worst elements (0-based): {worst}; "
                "try a smaller mesh.size or part_sizes for this part"
            )
