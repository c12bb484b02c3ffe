"""OpenCASCADE solids of the foot template (inside a gmsh session): bones, joint spaces, skin.

``build_template_solids`` creates every bone as a union of ellipsoids and capsules, carves joint
spaces (a bone that overlaps a higher-priority bone is cut by that bone grown by the joint gap),
lofts the skin through its cross-sections, cuts everything at the proximal plane and fragments
bones and skin so that they share their interface surfaces (a conforming mesh: the default tie).
Returns volume tag -> part name. Lengths in mm.

Robust booleans (issue 3). gmsh meshes every curve and vertex of the BRep, so a curve a fraction
of a millimetre long, or two vertices that close, forces slivers at any mesh size. The booleans
put such features wherever two construction edges happen to nearly meet, and the primitives
themselves carry edges that have nothing to do with the shape: the seam and the two poles of every
ellipsoid (an OpenCASCADE sphere's parametrisation) and, in a capsule built from a cylinder and
two hemispheres, the two circles where they join. So here

* a capsule is one smooth face: a rational B-spline half-stadium revolved about its axis (no
  joining circles), its knots spaced so that the parameter speed has no jumps (gmsh meshes a face
  in its parameter plane; equal knot spans folded surface triangles on thin capsules);
* every primitive (and every grown copy used as a cutting tool) is turned about itself, which
  leaves its shape unchanged, so that its poles lie off the result if they can, and the vertices
  its seam and poles make on the result lie as far as possible from every other surface
  (``_turn``, ``_seam_score``);
* OpenCASCADE starts every closed intersection curve at an arbitrary vertex; when that lands
  next to a corner where three surfaces meet it leaves a curve of 0.01-0.5 mm. A carved bone with
  a curve shorter than ``SHORT_CURVE`` is rebuilt with the next-best turns, which moves those
  vertices (``_piece``); short curves that are real (two joint spaces crossing on a bone) are
  left to the mesher's graded refinement (``footdt.mesh.foot.small_features``);
* a neighbour that only grazes a bone (its grown copy reaches less than ``GRAZE`` into it) does
  not cut it: the cut would leave a sliver face, and the bones are then still at least
  ``joint_gap - GRAZE`` apart;
* surfaces, curves and points that bound nothing are removed before meshing (``_remove_loose``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from footdt.anatomy.template import (
    PRIORITY,
    Ellipsoid,
    Primitive,
    TemplateGeometry,
    grown,
    primitive_surface_points,
    signed_distance,
    skin_section,
)
from footdt.domain import LEG_BONES, PHALANGES, SOFT_TISSUE
from footdt.errors import MeshError

DimTags = list[tuple[int, int]]

#: A grown neighbour that reaches less than this far into a bone (mm) does not cut it.
GRAZE = 0.3


#: A seam vertex this far (mm) from every other surface cannot make a short curve at any mesh size
#: the template is meshed with; beyond it, turns are ranked by the seam's overall clearance.
SEAM_CLEAR = 3.0
#: A seam point this far (mm) inside a solid that the boolean discards is ignored.
SEAM_MARGIN = 0.25
#: A carved bone with a curve shorter than this (mm) is rebuilt with other seam turns, at most
#: ``RETRIES`` times (``_piece``).
SHORT_CURVE = 1.0
RETRIES = 4


def _canonical(prim: Primitive) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(linear, shift, seam): the map from the primitive's canonical OCC solid (unit sphere, or
    capsule along +x from the origin) to the reference frame, and points along the canonical
    solid's seam from pole to pole (k, 3), about 1 mm apart."""
    if isinstance(prim, Ellipsoid):
        t = np.linspace(0.0, np.pi, 49)  # OCC sphere: seam x > 0 in the xz plane, poles on z
        seam = np.column_stack([np.sin(t), np.zeros_like(t), np.cos(t)])
        return prim.rotation() @ np.diag(prim.semi), np.asarray(prim.centre, dtype=float), seam
    r = prim.radius
    length = float(np.linalg.norm(np.subtract(prim.b, prim.a)))
    beta = np.linspace(np.pi, 0.5 * np.pi, 9)
    n = max(7, int(length) + 1)
    xs = [r * np.cos(beta), np.linspace(0.0, length, n), length - r * np.cos(beta[::-1])]
    rho = [r * np.sin(beta), np.full(n, r), r * np.sin(beta[::-1])]
    seam = np.column_stack([np.concatenate(xs), np.concatenate(rho), np.zeros(18 + n)])
    squash = np.diag([1.0, prim.squash[0], prim.squash[1]])
    return prim.rotation() @ squash, np.asarray(prim.a, dtype=float), seam


@lru_cache(maxsize=2)
def _turns(ellipsoid: bool) -> np.ndarray:
    """Candidate turns (C, 3, 3) of a canonical solid about itself: any rotation for the unit
    sphere (pole axis on a Fibonacci hemisphere x 12 seam directions), rolls about x for a
    capsule."""
    if not ellipsoid:
        a = np.linspace(0.0, 2.0 * np.pi, 24, endpoint=False)
        c, s, z, o = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
        return np.stack(
            [np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], 1
        )
    n = 32
    k = np.arange(n) + 0.5
    zc = k / n  # upper hemisphere: the poles of u and -u are the same pair
    phi = np.pi * (1.0 + 5.0**0.5) * k
    poles = np.column_stack(
        [np.sqrt(1 - zc**2) * np.cos(phi), np.sqrt(1 - zc**2) * np.sin(phi), zc]
    )
    out = []
    for u in poles:
        e1 = np.cross(u, [1.0, 0.0, 0.0] if abs(u[0]) < 0.9 else [0.0, 1.0, 0.0])
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(u, e1)
        for ang in np.linspace(0.0, 2.0 * np.pi, 12, endpoint=False):
            w = np.cos(ang) * e1 + np.sin(ang) * e2
            out.append(np.column_stack([w, np.cross(u, w), u]))
    return np.array(out)


def _kept(d: np.ndarray, n_body: int, tool: bool, skip: int = -1) -> np.ndarray:
    """Which seam points (distances ``d`` (O, ...) to the other surfaces: body first) lie on the
    boolean's result: a body primitive's surface survives outside the rest of the body and
    outside every tool, a tool's inside the body and outside the other tools. ``skip``: the
    surface a point lies on (its distance is zero)."""
    d = d.copy()
    if skip >= 0:
        d[skip] = np.inf if not tool or skip >= n_body else -np.inf
    body, tools = d[:n_body], d[n_body:]
    out = np.all(tools > -SEAM_MARGIN, axis=0)
    if tool:
        return out & (np.min(body, axis=0, initial=np.inf) < SEAM_MARGIN)
    return out & np.all(body > -SEAM_MARGIN, axis=0)


def _seam_score(d: np.ndarray, n_body: int, tool: bool) -> np.ndarray:
    """Score (C,) of each turn from the signed distances ``d`` (O, C, K) of its seam points to
    the other surfaces (O: body primitives first, then tools); higher is better.

    Two things make slivers or failed booleans. (1) The seam makes BRep vertices where it leaves
    the result's surface: its poles, and its crossings with another surface (a vertex on their
    intersection curve); such a vertex next to a third surface (near a corner where three
    surfaces meet) makes a curve that short. (2) OpenCASCADE's booleans go wrong when a pole, or
    a stretch of seam that does not cross a surface, nearly touches it (a seam that grazes a
    surface: a local minimum of the distance that is not a crossing). Score: the smaller of the
    two clearances, capped at ``SEAM_CLEAR``, plus a small bonus for the whole seam's clearance;
    first of all, fewer poles on the result (a pole is a degenerate edge, around which gmsh's
    surface mesher works in a singular parametrisation: the calcaneus's largest face failed to
    mesh with Frontal-Delaunay and was remeshed at twice the density)."""
    o, c, _ = d.shape
    worst = np.full(c, np.inf)
    poles_kept = np.zeros(c)
    for pole in (d[:, :, 0], d[:, :, -1]):
        worst = np.minimum(worst, np.min(np.abs(pole), axis=0))
        poles_kept += _kept(pole, n_body, tool)
    for s in range(o):
        a, b = d[s, :, :-1], d[s, :, 1:]
        cross = (a > 0) != (b > 0)
        f = np.where(cross, a / np.where(cross, a - b, 1.0), 0.0)
        at = d[:, :, :-1] * (1.0 - f) + d[:, :, 1:] * f  # (O, C, K-1) at the crossing
        gap = np.min(np.abs(np.delete(at, s, axis=0)), axis=0, initial=np.inf)
        on = cross & _kept(at, n_body, tool, skip=s)
        worst = np.minimum(worst, np.min(np.where(on, gap, np.inf), axis=1))
        # grazing: |d| has a local minimum between two samples on the same side of s
        ad = np.abs(d[s])
        dip = (ad[:, 1:-1] <= ad[:, :-2]) & (ad[:, 1:-1] <= ad[:, 2:])
        dip &= ~cross[:, :-1] & ~cross[:, 1:]
        worst = np.minimum(worst, np.min(np.where(dip, ad[:, 1:-1], np.inf), axis=1))
    overall = np.min(np.abs(d), axis=(0, 2))
    score = np.minimum(worst, SEAM_CLEAR) + 1e-3 * np.minimum(overall, 10.0 * SEAM_CLEAR)
    return score - 2.0 * SEAM_CLEAR * poles_kept


def _turn(
    prim: Primitive, body: list[Primitive], tools: list[Primitive], tool: bool, rank: int = 0
) -> np.ndarray:
    """The turn of the canonical solid that keeps the vertices its seam and poles make on the
    boolean's result farthest from the other surfaces (``body``: the other primitives of the
    solid being made; ``tools``: the solids cut from it; ``tool``: ``prim`` is one of them);
    ``rank`` > 0: the rank-th next best."""
    linear, shift, seam = _canonical(prim)
    turns = _turns(isinstance(prim, Ellipsoid))
    others = [*body, *tools]
    if not others:
        return turns[rank % len(turns)]
    pts = np.einsum("cij,kj->cki", turns, seam) @ linear.T + shift
    flat = pts.reshape(-1, 3)
    d = np.stack([signed_distance(o, flat).reshape(pts.shape[:2]) for o in others])
    order = np.argsort(-_seam_score(d, len(body), tool), kind="stable")
    return turns[int(order[rank % len(turns)])]


def _primitive(
    occ: Any,
    prim: Primitive,
    scale: np.ndarray,
    body: list[Primitive],
    tools: list[Primitive],
    tool: bool = False,
    rank: int = 0,
) -> DimTags:
    """One primitive as an OCC solid in mm, its seam turned away from the others (``_turn``)."""
    linear, shift, _ = _canonical(prim)
    if isinstance(prim, Ellipsoid):
        tags = [(3, occ.addSphere(0.0, 0.0, 0.0, 1.0))]
    else:
        length = float(np.linalg.norm(np.subtract(prim.b, prim.a)))
        tags = _capsule_x(occ, length, prim.radius)
    turn = _turn(prim, body, tools, tool, rank)
    m = np.column_stack([np.diag(scale) @ linear @ turn, scale * shift])
    occ.affineTransform(tags, [float(v) for v in m.ravel()])
    return tags


def _capsule_x(occ: Any, length: float, r: float) -> DimTags:
    """A capsule along +x from the origin with ONE smooth face: an exact rational quadratic
    B-spline half stadium (quarter circle, line, quarter circle) revolved about the x axis."""
    w = 0.5**0.5
    xy = (
        (-r, 0),
        (-r, r),
        (0, r),
        (0.5 * length, r),
        (length, r),
        (length + r, r),
        (length + r, 0),
    )
    p = [occ.addPoint(x, y, 0.0) for x, y in xy]
    # knots spaced so that the parameter runs at unit speed where the arcs meet the line: with
    # equal spans the speed jumped about sevenfold there, and gmsh's surface mesher, which works
    # in the parameter plane, then folded triangles across the junction of a thin capsule
    arc = 2.0**0.5 * r  # the speed at the ends of an arc span of this length is 1
    profile = occ.addBSpline(
        p,
        degree=2,
        weights=[1, w, 1, 1, 1, w, 1],
        knots=[0.0, arc, arc + length, 2.0 * arc + length],
        multiplicities=[3, 2, 2, 3],
    )
    face = occ.addPlaneSurface([occ.addCurveLoop([profile, occ.addLine(p[-1], p[0])])])
    out = occ.revolve([(2, face)], 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0 * np.pi)
    occ.remove([(2, face)], recursive=True)
    return [t for t in out if t[0] == 3]


def _volume(gmsh: Any, tags: DimTags) -> float:
    return float(sum(gmsh.model.occ.getMass(3, t) for d, t in tags if d == 3))


def _pieces(bone: str, prims: tuple[Primitive, ...]) -> list[tuple[Primitive, ...]]:
    """The separate solids of a bone: the phalanges are one solid per ray, other bones one."""
    return [(p,) for p in prims] if bone == PHALANGES else [prims]


def reach(tool: Primitive, piece: tuple[Primitive, ...]) -> float:
    """How far (mm, reference frame) a tool's surface reaches into the union of ``piece``
    (<= 0: they do not overlap)."""
    pts = primitive_surface_points(tool, 64)
    return float(-np.min(np.min([signed_distance(p, pts) for p in piece], axis=0)))


def _cutters(
    piece: tuple[Primitive, ...], done: list[tuple[Primitive, ...]], gap: float
) -> list[Primitive]:
    """The grown higher-priority primitives that carve a joint space into ``piece``."""
    near = [grown(p, gap) for higher in done for p in higher]
    return [t for t in near if reach(t, piece) >= GRAZE]


def _carve(
    gmsh: Any, piece: tuple[Primitive, ...], cutters: list[Primitive], scale: np.ndarray, rank: int
) -> tuple[DimTags, float]:
    """A piece fused from its primitives, its joint spaces cut out; (solid, volume before cutting).
    ``rank``: which seam turns (``_turn``)."""
    occ = gmsh.model.occ
    parts = [
        t
        for i, p in enumerate(piece)
        for t in _primitive(occ, p, scale, [*piece[:i], *piece[i + 1 :]], cutters, rank=rank)
    ]
    solid = occ.fuse(parts[:1], parts[1:])[0] if len(parts) > 1 else parts
    before = _volume(gmsh, solid)
    tools = [
        t
        for i, c in enumerate(cutters)
        for t in _primitive(
            occ, c, scale, list(piece), [*cutters[:i], *cutters[i + 1 :]], True, rank
        )
    ]
    if tools:
        solid, _ = occ.cut(solid, tools)
    return solid, before


def shortest_curve(occ: Any, solid: DimTags) -> float:
    """Length (mm) of the shortest curve of a solid's BRep (degenerate pole edges excluded)."""
    curves = set()
    for _, vol in solid:
        _, loops = occ.getSurfaceLoops(vol)
        for face in {abs(f) for loop in loops for f in loop}:
            _, wires = occ.getCurveLoops(face)
            curves |= {abs(c) for wire in wires for c in wire}
    lengths = [occ.getMass(1, c) for c in curves]
    return min((v for v in lengths if v > 1e-6), default=np.inf)


def _piece(
    gmsh: Any, bone: str, piece: tuple[Primitive, ...], cutters: list[Primitive], scale: np.ndarray
) -> DimTags:
    """The carved piece, rebuilt with other seam turns (up to ``RETRIES`` times) while a boolean
    failed or left a curve shorter than ``SHORT_CURVE``; the best attempt is kept."""
    occ = gmsh.model.occ
    best: tuple[float, DimTags] | None = None
    for rank in range(RETRIES + 1):
        solid, before = _carve(gmsh, piece, cutters, scale, rank)
        vols = [t for t in solid if t[0] == 3]
        ok = len(vols) == 1 and len(solid) == 1 and _volume(gmsh, vols) >= 0.6 * before
        short = shortest_curve(occ, vols) if ok else -1.0
        if best is None or short > best[0]:
            if best is not None:
                occ.remove(best[1], recursive=True)
            best = (short, vols)
        else:
            occ.remove(solid, recursive=True)
        if best[0] >= SHORT_CURVE:
            break
    assert best is not None
    if best[0] < 0:
        raise MeshError(
            f"foot template: the {bone} falls apart or loses over 40% of its volume to its "
            "neighbours' joint spaces: the bones overlap too much for these "
            "foot_length/foot_width/arch_height values"
        )
    return best[1]


def build_template_solids(gmsh: Any, geo: TemplateGeometry) -> dict[int, str]:
    """Create the template's solids in the current gmsh model; return volume tag -> part."""
    occ = gmsh.model.occ
    scale = np.asarray(geo.scale, dtype=float)
    bones: dict[str, DimTags] = {}
    done: list[tuple[Primitive, ...]] = []  # higher-priority solids, in carving order
    for bone in PRIORITY:
        bones[bone] = []
        for piece in _pieces(bone, geo.bones[bone]):
            bones[bone] += _piece(gmsh, bone, piece, _cutters(piece, done, geo.joint_gap), scale)
            done.append(piece)
    z_cut = geo.cut_height * scale[2]
    above = occ.addBox(-1000.0, -1000.0, z_cut, 2000.0, 2000.0, 1000.0)
    for bone in LEG_BONES:
        bones[bone], _ = occ.cut(bones[bone], [(3, above)], removeTool=False)
    occ.remove([(3, above)], recursive=True)
    skin = _skin(occ, geo, scale)
    return _assemble(gmsh, skin, bones)


def _skin(occ: Any, geo: TemplateGeometry, scale: np.ndarray) -> int:
    wires = []
    for s in geo.slices:
        pts = skin_section(geo, s) * scale
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
        if bone in LEG_BONES:
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
    leg = [(bone, t) for bone in LEG_BONES for t in bones[bone]]
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
    _remove_loose(gmsh)
    return parts


def _remove_loose(gmsh: Any) -> None:
    """Remove the surfaces, curves and points that bound nothing: copies of bone faces that
    OpenCASCADE leaves behind when a volume is rebuilt from its surface loop, and the skin's
    section curves. gmsh would mesh them too, and a surface meshing failure on such a copy
    (sharing its curves with the real face) makes gmsh remesh those curves and their faces."""
    model = gmsh.model
    for dim in (2, 1, 0):
        loose = [
            (dim, t) for _, t in model.getEntities(dim) if not len(model.getAdjacencies(dim, t)[0])
        ]
        if loose:
            model.occ.remove(loose, recursive=True)
            model.occ.synchronize()
