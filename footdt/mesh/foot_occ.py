"""OpenCASCADE solids of the foot template (inside a gmsh session): bones, joint spaces, skin.

``build_template_solids`` creates every bone as a union of ellipsoids and capsules, carves joint
spaces (a bone that overlaps a higher-priority bone is cut by that bone grown by the joint gap),
lofts the skin through its cross-sections, cuts everything at the proximal plane and fragments
bones and skin so that they share their interface surfaces (a conforming mesh: the default tie).
Returns volume tag -> part name. Lengths in mm.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from footdt.anatomy.template import (
    PRIORITY,
    Ellipsoid,
    Primitive,
    TemplateGeometry,
    grown,
    primitive_surface_points,
    primitives_overlap,
    slice_outline,
)
from footdt.domain import SOFT_TISSUE
from footdt.errors import MeshError

DimTags = list[tuple[int, int]]


def _affine(occ: Any, tags: DimTags, linear: np.ndarray, shift: np.ndarray) -> None:
    m = np.column_stack([linear, shift])
    occ.affineTransform(tags, [float(v) for v in m.ravel()])


def _primitive(occ: Any, prim: Primitive, scale: np.ndarray, grow: float) -> DimTags:
    """One primitive as an OCC solid in mm; ``grow`` enlarges it by about that distance."""
    if isinstance(prim, Ellipsoid):
        tags = [(3, occ.addSphere(0.0, 0.0, 0.0, 1.0))]
        semi = np.asarray(prim.semi) + grow
        _affine(occ, tags, np.diag(scale) @ prim.rotation() @ np.diag(semi), scale * prim.centre)
        return tags
    a, b = np.asarray(prim.a), np.asarray(prim.b)
    length, r = float(np.linalg.norm(b - a)), prim.radius + grow
    tags = _capsule_x(occ, length, r)
    squash = np.diag([1.0, prim.squash[0], prim.squash[1]])
    _affine(occ, tags, np.diag(scale) @ prim.rotation() @ squash, scale * a)
    return tags


def _capsule_x(occ: Any, length: float, r: float) -> DimTags:
    """A capsule along +x from the origin: a half-stadium profile revolved about the x axis."""
    p = [
        occ.addPoint(*xy, 0.0)
        for xy in ((-r, 0), (0, 0), (0, r), (length, r), (length, 0), (length + r, 0))
    ]
    curves = [
        occ.addCircleArc(p[2], p[1], p[0]),
        occ.addLine(p[0], p[5]),
        occ.addCircleArc(p[5], p[4], p[3]),
        occ.addLine(p[3], p[2]),
    ]
    face = occ.addPlaneSurface([occ.addCurveLoop(curves)])
    out = occ.revolve([(2, face)], 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0 * np.pi)
    return [t for t in out if t[0] == 3]


def _solid(occ: Any, prims: tuple[Primitive, ...], scale: np.ndarray, grow: float) -> DimTags:
    parts = [t for p in prims for t in _primitive(occ, p, scale, grow)]
    if len(parts) == 1:
        return parts
    out, _ = occ.fuse(parts[:1], parts[1:])
    return out


def _bbox(prims: tuple[Primitive, ...], scale: np.ndarray, grow: float) -> np.ndarray:
    pts = np.vstack([primitive_surface_points(p, 16) for p in prims]) * scale
    return np.array([pts.min(axis=0) - grow - 1.0, pts.max(axis=0) + grow + 1.0])


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a[0] <= b[1]) and np.all(b[0] <= a[1]))


def _volume(gmsh: Any, tags: DimTags) -> float:
    return float(sum(gmsh.model.occ.getMass(3, t) for d, t in tags if d == 3))


def _pieces(bone: str, prims: tuple[Primitive, ...]) -> list[tuple[Primitive, ...]]:
    """The separate solids of a bone: the phalanges are one solid per ray, other bones one."""
    return [(p,) for p in prims] if bone == "phalanges" else [prims]


def build_template_solids(gmsh: Any, geo: TemplateGeometry) -> dict[int, str]:
    """Create the template's solids in the current gmsh model; return volume tag -> part."""
    occ = gmsh.model.occ
    scale = np.asarray(geo.scale, dtype=float)
    gap = geo.joint_gap
    bones: dict[str, DimTags] = {}
    done: list[tuple[Primitive, ...]] = []  # higher-priority solids, in carving order
    for bone in PRIORITY:
        bones[bone] = []
        for piece in _pieces(bone, geo.bones[bone]):
            solid = _solid(occ, piece, scale, 0.0)
            before = _volume(gmsh, solid)
            tools = [
                t
                for higher in done
                for prim in higher
                if any(primitives_overlap(grown(prim, gap + 1.0), own) for own in piece)
                for t in _primitive(occ, prim, scale, gap)
            ]
            if tools:
                solid, _ = occ.cut(solid, tools)
            vols = [t for t in solid if t[0] == 3]
            if len(vols) != 1 or _volume(gmsh, vols) < 0.6 * before:
                raise MeshError(
                    f"foot template: the {bone} falls apart or loses over 40% of its volume to its "
                    "neighbours' joint spaces: the bones overlap too much for these "
                    "foot_length/foot_width/arch_height values"
                )
            bones[bone] += vols
            done.append(piece)
    z_cut = geo.cut_height * scale[2]
    above = occ.addBox(-1000.0, -1000.0, z_cut, 2000.0, 2000.0, 1000.0)
    for bone in ("tibia", "fibula"):
        bones[bone], _ = occ.cut(bones[bone], [(3, above)], removeTool=False)
    occ.remove([(3, above)], recursive=True)
    skin = _skin(occ, geo, scale)
    return _assemble(gmsh, skin, bones)


def _skin(occ: Any, geo: TemplateGeometry, scale: np.ndarray) -> int:
    wires = []
    for s in geo.slices:
        pts = slice_outline(s) * scale
        ptags = [occ.addPoint(*map(float, p)) for p in pts]
        curve = occ.addBSpline([*ptags, ptags[0]])
        wires.append(occ.addWire([curve]))
    out = occ.addThruSections(wires, makeSolid=True, makeRuled=False)
    vols = [t for d, t in out if d == 3]
    if len(vols) != 1:
        raise MeshError("foot template: the skin loft did not produce one solid")
    return vols[0]


def _assemble(gmsh: Any, skin: int, bones: dict[str, DimTags]) -> dict[int, str]:
    """Soft tissue = skin minus bones, sharing the bones' surfaces.

    Bones inside the skin become holes (inner surface loops) of the tissue volume and are rebuilt
    from the same loops, so bone and tissue share their interface surfaces without a general
    boolean fragment (which is slow with the lofted skin). Only the tibia and fibula cross the
    skin (at the proximal cut); they are fragmented with the tissue afterwards. (Rebuilding a
    solid from surfaces that another live solid still uses makes OpenCASCADE copy them, so the
    order of these steps matters.)
    """
    occ = gmsh.model.occ
    parts: dict[int, str] = {}
    holes = []
    for bone, tags in bones.items():
        if bone in ("tibia", "fibula"):
            continue
        for _, tag in tags:
            _, surfaces = occ.getSurfaceLoops(tag)
            loop = occ.addSurfaceLoop(list(surfaces[0]))
            occ.remove([(3, tag)])
            parts[occ.addVolume([loop])] = bone
            holes.append(loop)
    _, outer = occ.getSurfaceLoops(skin)
    shell = occ.addSurfaceLoop(list(outer[0]))
    occ.remove([(3, skin)])
    tissue = occ.addVolume([shell, *holes])
    leg = [(bone, t) for bone in ("tibia", "fibula") for t in bones[bone]]
    _, outmap = occ.fragment([(3, tissue)], [t for _, t in leg])
    occ.synchronize()
    for (bone, _), m in zip(leg, outmap[1:], strict=True):
        parts.update({t: bone for d, t in m if d == 3})
    rest = [t for d, t in outmap[0] if d == 3 and t not in parts]
    if len(rest) != 1:
        raise MeshError(
            "foot template: the tibia or fibula does not cross the proximal cut cleanly"
        )
    parts[rest[0]] = SOFT_TISSUE
    return parts
