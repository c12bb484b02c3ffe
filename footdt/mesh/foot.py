"""Mesh a foot (the built-in template or user surfaces) into one conforming tetrahedral mesh.

``mesh_foot(geometry, options)`` returns a ``VolumeMesh`` with a part per bone plus
``soft_tissue`` (bones and tissue share the nodes of their interfaces: the default "tie"), the
named surfaces of ``footdt.anatomy.landmarks.foot_surfaces`` and its landmarks. Lengths in mm.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from footdt.anatomy.template import TemplateGeometry, build_template
from footdt.domain import BONES, SOFT_TISSUE
from footdt.errors import MeshError
from footdt.mechanics import tet_volumes
from footdt.mesh.estimate import check_estimate, estimate_mesh
from footdt.mesh.faces import boundary_faces
from footdt.mesh.gmsh_session import VolumeMesh, gmsh_session, read_tets
from footdt.mesh.topology import face_centroids_normals, orient_positive
from footdt.spec.geometry import FootTemplate, UserSurfaces
from footdt.spec.subject import MeshOptions

if TYPE_CHECKING:
    from footdt.anatomy.user_surfaces import UserGeometry

#: Quadratic tets keep their mid-edge nodes on the straight edges: curving them onto the CAD
#: surfaces inverted ~140 elements of the template at 5 mm (thin joint spaces) and gmsh's
#: high-order untangling ("HighOrder" optimisation) then took 5-10 minutes. Straight-sided
#: tetra10 improve the displacement and stress fields, not the geometry (docs/anatomy.md).
SECOND_ORDER_OPTIONS: dict[str, float] = {"Mesh.SecondOrderLinear": 1}

FootGeometry = Union[FootTemplate, UserSurfaces, TemplateGeometry, "UserGeometry"]


def mesh_foot(
    geometry: FootGeometry,
    options: MeshOptions,
    *,
    memory_limit_gb: float | None = None,
    threads: int = 1,
    base: Path | None = None,
) -> VolumeMesh:
    """Mesh the template (``FootTemplate`` or a built ``TemplateGeometry``) or user surfaces
    (``UserSurfaces``, whose relative paths are resolved against ``base``, or a loaded
    ``UserGeometry``).

    Refuses (``MeshError``) before meshing when the estimated size exceeds ``memory_limit_gb``
    (default: 80 % of this machine's memory), and after meshing when bones touch each other or
    the skin. ``threads`` is used by the 3D mesher (HXT); surfaces are always meshed on one thread.
    One thread is the default: it is fast (about 1 s for the template's volume at 3 mm) and gives
    the same node and element numbering on every run; with more threads the mesh is the same but
    its numbering varies, which changes the mesh hash.
    """
    from footdt.anatomy.landmarks import foot_landmarks, foot_surfaces

    _check_part_sizes(options)
    t0 = time.perf_counter()
    from footdt.anatomy.user_surfaces import UserGeometry, load_user_surfaces

    user = None
    if isinstance(geometry, UserSurfaces | UserGeometry):
        user = (
            load_user_surfaces(geometry, base) if isinstance(geometry, UserSurfaces) else geometry
        )
        est = estimate_mesh(user.volume(), user.area(), options)
    else:
        geo = geometry if isinstance(geometry, TemplateGeometry) else build_template(geometry)
        est = estimate_mesh(*_template_measures(geo), options)
    check_estimate(est, memory_limit_gb)
    timings: dict[str, float] = {}
    with gmsh_session(seed=options.seed, threads=1) as gmsh:
        if user is not None:
            from footdt.mesh.foot_user import build_user_volumes

            parts = build_user_volumes(gmsh, user, options)
        else:
            from footdt.mesh.foot_occ import build_template_solids

            parts = build_template_solids(gmsh, geo)
        timings["geometry_s"] = time.perf_counter() - t0
        cad = _cad_volumes(gmsh, parts) if user is None else _surface_volumes(user)
        t = time.perf_counter()
        _set_sizes(gmsh, parts, options, features=user is None)
        timings["sizes_s"] = time.perf_counter() - t
        _generate(gmsh, options, threads, timings)
        mesh = extract_parts(gmsh, parts, options.order)
    check_bones_inside(mesh)
    mesh.landmarks = foot_landmarks(mesh)
    depth = 0.5 if user is None else user.contact_depth
    mesh.surfaces = foot_surfaces(mesh, mesh.landmarks, contact_depth=depth)
    timings["total_s"] = time.perf_counter() - t0
    mesh.info.update(
        generator="footdt foot template" if user is None else "footdt user surfaces",
        size=options.size,
        part_sizes=dict(options.part_sizes),
        order=options.order,
        estimate=est.as_dict(),
        cad_volumes=cad,
        timings=timings,
    )
    if user is None:
        mesh.info["template"] = geo.params.model_dump()
    return mesh


def _cad_volumes(gmsh: Any, parts: dict[int, str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for tag, part in parts.items():
        out[part] = out.get(part, 0.0) + float(gmsh.model.occ.getMass(3, tag))
    return out


def _surface_volumes(user: UserGeometry) -> dict[str, float]:
    out = {bone: s.volume() for bone, s in user.bones.items()}
    out[SOFT_TISSUE] = user.skin.volume() - sum(out.values())
    return out


def _check_part_sizes(options: MeshOptions) -> None:
    known = {*BONES, SOFT_TISSUE}
    unknown = sorted(set(options.part_sizes) - known)
    if unknown:
        raise MeshError(
            f"mesh.part_sizes: no part named {', '.join(unknown)}; parts: {', '.join(sorted(known))}"
        )


def _template_measures(geo: TemplateGeometry) -> tuple[float, float]:
    from footdt.anatomy.template import bone_area, skin_volume_area

    volume, skin_area = skin_volume_area(geo)
    return volume, skin_area + bone_area(geo)


#: Small BRep features: where two curves of a face come closer than ``FEATURE_RATIO`` x the
#: element size (a short curve, or a narrow strip between two rims), the elements there are made
#: as small as that gap (not below ``FEATURE_FLOOR`` mm), growing by ``FEATURE_GRADE`` mm per mm
#: away from it up to the element size. A gap much narrower than the elements around it forces
#: needle or sliver tetrahedra at any element size; graded elements keep their shape
#: (docs/anatomy.md, "Robust geometry and small features").
FEATURE_RATIO = 0.3
FEATURE_FLOOR = 0.05
FEATURE_GRADE = 0.5
#: A feature point is dropped when the others already give it a size within this factor of its own.
FEATURE_SLACK = 1.5


def _curve_points(gmsh: Any, curve: int, n: int) -> np.ndarray:
    lo, hi = gmsh.model.getParametrizationBounds(1, curve)
    t = np.linspace(lo[0], hi[0], n)
    return np.asarray(gmsh.model.getValue(1, curve, t.tolist())).reshape(-1, 3)


def _gaps(gmsh: Any, a: int, b: int, step: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Points sampled along curve ``a`` and their distances to curve ``b`` (sampled every
    ``step`` mm; gmsh's closest-point projection fails on some intersection curves)."""
    n = [int(np.clip(gmsh.model.occ.getMass(1, c) / step, 20, 2000)) for c in (a, b)]
    pa, pb = _curve_points(gmsh, a, n[0]), _curve_points(gmsh, b, n[1])
    d = np.min(np.linalg.norm(pa[:, None, :] - pb[None, :, :], axis=2), axis=1)
    return pa, d


def small_features(gmsh: Any, size: float) -> list[tuple[np.ndarray, float]]:
    """(point, local size) where the model's BRep is finer than FEATURE_RATIO x ``size``: along
    curves shorter than that, and where two curves of one face that share no vertex come that
    close. A point is dropped when the points kept already give it an element size within
    FEATURE_SLACK of its own."""
    model, occ = gmsh.model, gmsh.model.occ
    limit = FEATURE_RATIO * size
    found: list[tuple[np.ndarray, float]] = []
    length = {c: float(occ.getMass(1, c)) for _, c in model.getEntities(1)}
    for c, ell in length.items():
        if 1e-6 < ell < limit:
            found += [(p, max(ell, FEATURE_FLOOR)) for p in _curve_points(gmsh, c, 3)]
    ends = {
        c: {v for _, v in model.getBoundary([(1, c)], combined=False, oriented=False)}
        for c in length
    }
    step = {c: max(ell / 400, 1.0) for c, ell in length.items()}  # coarse samples, <= 1 mm apart
    coarse = {c: _curve_points(gmsh, c, int(ell / step[c]) + 8) for c, ell in length.items()}
    for _, face in model.getEntities(2):
        curves = sorted(
            {abs(c) for _, c in model.getBoundary([(2, face)], combined=False, oriented=False)}
        )
        curves = [c for c in curves if length[c] > 1e-6]
        for i, a in enumerate(curves):
            for b in curves[i + 1 :]:
                near = np.linalg.norm(coarse[a][:, None] - coarse[b][None], axis=2).min()
                if ends[a] & ends[b] or near - step[a] - step[b] >= limit:
                    continue
                pts, gap = _gaps(gmsh, a, b)
                found += [
                    (p, max(g, FEATURE_FLOOR)) for p, g in zip(pts, gap, strict=True) if g < limit
                ]
    kept: list[tuple[np.ndarray, float]] = []
    for p, s in sorted(found, key=lambda f: f[1]):
        if all(t + FEATURE_GRADE * np.linalg.norm(p - q) > FEATURE_SLACK * s for q, t in kept):
            kept.append((p, s))
    return kept


def _set_sizes(
    gmsh: Any, parts: dict[int, str], options: MeshOptions, features: bool = True
) -> None:
    """Global size as the maximum; smaller per-part sizes as constant fields on their volumes;
    with ``features`` (OpenCASCADE geometry), graded refinement around small BRep features
    (``small_features``)."""
    field = gmsh.model.mesh.field
    smallest = min([options.size, *options.part_sizes.values()])
    gmsh.option.setNumber("Mesh.MeshSizeMax", options.size)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 1)
    fields = []
    for part, size in options.part_sizes.items():
        vols = [t for t, p in parts.items() if p == part]
        if not vols or size >= options.size:
            continue
        f = field.add("Constant")
        field.setNumbers(f, "VolumesList", vols)
        field.setNumber(f, "VIn", size)
        field.setNumber(f, "VOut", options.size)
        field.setNumber(f, "IncludeBoundary", 1)
        fields.append(f)
    found = small_features(gmsh, smallest) if features else []
    for point, size in found:
        r2 = "+".join(
            f"({v}{-float(c):+.6f})*({v}{-float(c):+.6f})"
            for v, c in zip("xyz", point, strict=True)
        )
        f = field.add("MathEval")
        field.setString(f, "F", f"{size:.6f}+{FEATURE_GRADE}*Sqrt({r2})")
        fields.append(f)
    gmsh.option.setNumber("Mesh.MeshSizeMin", min([smallest / 4, *(s for _, s in found)]))
    if fields:
        fmin = field.add("Min")
        field.setNumbers(fmin, "FieldsList", fields)
        field.setAsBackgroundMesh(fmin)


def _generate(gmsh: Any, options: MeshOptions, threads: int, timings: dict[str, float]) -> None:
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay surfaces
    gmsh.option.setNumber("Mesh.Algorithm3D", 10)  # HXT
    gmsh.option.setNumber("Mesh.Optimize", 1)
    t = time.perf_counter()
    try:
        gmsh.model.mesh.generate(2)
        timings["surface_mesh_s"] = time.perf_counter() - t
        gmsh.option.setNumber("General.NumThreads", threads)
        t = time.perf_counter()
        gmsh.model.mesh.generate(3)
        timings["volume_mesh_s"] = time.perf_counter() - t
        t = time.perf_counter()
        _repair_slivers(gmsh)
        timings["optimise_s"] = time.perf_counter() - t
        if options.order == 2:
            t = time.perf_counter()
            for key, value in SECOND_ORDER_OPTIONS.items():
                gmsh.option.setNumber(key, value)
            gmsh.model.mesh.setOrder(2)
            timings["second_order_s"] = time.perf_counter() - t
    except Exception as exc:  # gmsh raises bare Exceptions
        raise MeshError(f"gmsh could not mesh the foot at size {options.size:g} mm: {exc}") from exc


#: After HXT, tetrahedra with gamma below this get gmsh's optimiser (vertex relocation and
#: swaps) and, if any remain, Netgen's (more swap types; a few seconds at 3 mm): HXT leaves the odd
#: flat tetrahedron between surface nodes of thin bones (phalanges) or next to a surface.
REPAIR_GAMMA = 0.02


def _min_gamma(gmsh: Any) -> float:
    tags, _ = gmsh.model.mesh.getElementsByType(4)
    return float(np.min(gmsh.model.mesh.getElementQualities(tags, "gamma"), initial=1.0))


def _repair_slivers(gmsh: Any) -> None:
    for method in ("", "Netgen"):
        if _min_gamma(gmsh) >= REPAIR_GAMMA:
            return
        gmsh.model.mesh.optimize(method)


def extract_parts(gmsh: Any, parts: dict[int, str], order: int) -> VolumeMesh:
    """The tetrahedra of every gmsh volume, grouped into parts (nodes renumbered 0..N-1)."""
    nodes, elements, groups, _ = read_tets(gmsh, parts, order)
    flipped = int((tet_volumes(nodes, elements) < 0).sum())
    mesh = VolumeMesh(
        nodes, orient_positive(nodes, elements), "tetra" if order == 1 else "tetra10", groups
    )
    mesh.info["flipped_on_import"] = flipped  # gmsh tets are positive: non-zero means inverted ones
    return mesh


def check_bones_inside(mesh: VolumeMesh) -> None:
    """Refuse a mesh whose bones touch each other or reach the skin (except at the proximal cut)."""
    owner = np.full(len(mesh.nodes), -1, dtype=np.int64)
    bones = [p for p in mesh.parts if p != SOFT_TISSUE]
    for i, bone in enumerate(bones):
        nodes = np.unique(mesh.elements[mesh.parts[bone]])
        clash = nodes[(owner[nodes] >= 0) & (owner[nodes] != i)]
        if len(clash):
            other = bones[int(owner[clash[0]])]
            raise MeshError(
                f"the {bone} and the {other} touch at {np.round(mesh.nodes[clash[0]], 1).tolist()} mm: "
                "bones must be separated by soft tissue"
            )
        owner[nodes] = i
    faces = boundary_faces(mesh.elements)
    cen, nrm, _ = face_centroids_normals(mesh.nodes, mesh.elements, faces)
    top = (nrm[:, 2] > 0.9) & (cen[:, 2] > cen[:, 2].max() - 0.5)
    part_of = np.full(len(mesh.elements), -1, dtype=np.int64)
    for i, bone in enumerate(bones):
        part_of[mesh.parts[bone]] = i
    bad = (part_of[faces[:, 0]] >= 0) & ~top
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise MeshError(
            f"the {bones[part_of[faces[k, 0]]]} reaches the skin surface at "
            f"{np.round(cen[k], 1).tolist()} mm: every bone must lie inside the soft tissue"
        )
