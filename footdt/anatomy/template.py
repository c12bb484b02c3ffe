"""The built-in parametric right-foot template: bones as simple solids inside a lofted skin.

Pure data and numpy (no gmsh): ``build_template(params)`` returns a ``TemplateGeometry`` that
``footdt.mesh.foot`` turns into OpenCASCADE solids. Lengths in mm, in the foot frame (x anterior
heel -> toes, y medial for a right foot, z up, ground z = 0; the heel skin is at x = 0).

The reference design is a 265 mm long, 100 mm wide foot with a 40 mm navicular height
(REFERENCE.md anthropometry; bone sizes and placement calibrated against the OpenSim foot
bones, see docs/anatomy.md). Another size is the reference scaled by ``foot_length / 265`` in x
and z and by ``foot_width / 100`` in y; the arch height then lifts the midfoot bones (navicular,
cuneiforms, talus head, cuboid, metatarsal bases) by a smooth weight that is 1 at the navicular
and 0 at the heel and at the metatarsal heads; the skin above the sole rises with them
(``skin_section``). Joint spaces are made by ``footdt.mesh.foot``: a bone that overlaps a bone
of higher ``PRIORITY`` is carved by that bone grown by ``JOINT_GAP``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from footdt.anatomy.template_data import BONE_PRIMITIVES, SKIN_SLICES, Capsule, Ellipsoid, Slice
from footdt.domain import (
    CALCANEUS,
    CUBOID,
    CUNEIFORM_INTERMEDIATE,
    CUNEIFORM_LATERAL,
    CUNEIFORM_MEDIAL,
    FIBULA,
    METATARSAL_1,
    METATARSAL_2,
    METATARSAL_3,
    METATARSAL_4,
    METATARSAL_5,
    NAVICULAR,
    PHALANGES,
    TALUS,
    TIBIA,
)
from footdt.errors import MeshError
from footdt.spec.geometry import FootTemplate

#: Reference size of the design tables (mm).
REF_LENGTH, REF_WIDTH, REF_ARCH = 265.0, 100.0, 40.0
#: Height of the proximal cut at the reference size (mm); scales with foot length.
REF_CUT_HEIGHT = 110.0
#: Joint space between neighbouring bones, filled with soft tissue (mm, at the reference size).
JOINT_GAP = 1.5
#: Carving order: a bone is carved by every overlapping bone listed before it.
PRIORITY: tuple[str, ...] = (
    TALUS,
    METATARSAL_1,
    METATARSAL_2,
    METATARSAL_3,
    METATARSAL_4,
    METATARSAL_5,
    NAVICULAR,
    CUBOID,
    CUNEIFORM_MEDIAL,
    CUNEIFORM_INTERMEDIATE,
    CUNEIFORM_LATERAL,
    CALCANEUS,
    TIBIA,
    FIBULA,
    PHALANGES,
)
#: Range of the arch lift (reference-frame mm) the design supports without bones colliding.
ARCH_LIFT_RANGE = (-12.0, 14.0)
#: Heights (reference-frame mm) between which the skin rises with the arch as much as the bones
#: under it; below, the lift fades out towards the flat sole (z = 0), above, towards the cut.
SKIN_LIFT_BAND = (30.0, 72.0)

Primitive = Ellipsoid | Capsule


@dataclass(frozen=True)
class TemplateGeometry:
    """A template instance: reference-frame solids plus the scale that maps them to mm."""

    bones: dict[str, tuple[Primitive, ...]]
    slices: tuple[Slice, ...]
    scale: tuple[float, float, float]  # (sx, sy, sz) applied after construction
    cut_height: float  # reference frame (mm)
    joint_gap: float  # reference frame (mm)
    arch_lift: float  # reference-frame lift of the navicular (mm)
    params: FootTemplate

    def to_mm(self, points: np.ndarray) -> np.ndarray:
        """Map reference-frame points (N, 3) to the subject's mm frame."""
        return np.asarray(points, dtype=float) * np.asarray(self.scale)


def arch_weight(x: float, y: float) -> float:
    """Weight of the arch lift at a reference-frame point: 1 under the navicular, 0 at heel and ball.

    Along x: 0 behind x = 70 mm (talus body, calcaneus), rising to 1 at x = 95 mm, 1 to x = 115 mm,
    falling to 0 at x = 165 mm (metatarsal heads). Across y the lateral column lifts less:
    factor ``clip((y + 40) / 60, 0.3, 1)``.
    """
    along = float(np.interp(x, [70.0, 95.0, 115.0, 165.0], [0.0, 1.0, 1.0, 0.0]))
    across = float(np.clip((y + 40.0) / 60.0, 0.3, 1.0))
    return along * across


def skin_lift_factor(z: float) -> float:
    """How much of the arch lift the skin gets at reference height ``z``: 0 on the ground, 1 in
    ``SKIN_LIFT_BAND``, 0 at the proximal cut, smooth (C1) in between."""
    lo, hi = SKIN_LIFT_BAND
    up = float(np.clip(z / lo, 0.0, 1.0))
    down = float(np.clip((REF_CUT_HEIGHT - z) / (REF_CUT_HEIGHT - hi), 0.0, 1.0))
    return up * up * (3.0 - 2.0 * up) * down * down * (3.0 - 2.0 * down)


def _lift(p: tuple[float, float, float], dz: float) -> tuple[float, float, float]:
    return (p[0], p[1], p[2] + dz * arch_weight(p[0], p[1]))


def lift_primitive(prim: Primitive, dz: float) -> Primitive:
    """Translate a primitive's key points by the arch lift ``dz`` times their arch weight."""
    if isinstance(prim, Ellipsoid):
        return replace(prim, centre=_lift(prim.centre, dz))
    return replace(prim, a=_lift(prim.a, dz), b=_lift(prim.b, dz))


def build_template(params: FootTemplate | None = None) -> TemplateGeometry:
    """The template for a foot length, width and arch height (defaults: the reference foot)."""
    params = params or FootTemplate(type="foot_template")
    sx = sz = params.foot_length / REF_LENGTH
    sy = params.foot_width / REF_WIDTH
    lift = params.arch_height / sz - REF_ARCH
    lo, hi = ARCH_LIFT_RANGE
    if not lo <= lift <= hi:
        raise MeshError(
            f"foot_template: arch_height {params.arch_height:g} mm is outside what the template supports "
            f"at foot_length {params.foot_length:g} mm: use {(REF_ARCH + lo) * sz:.0f}-"
            f"{(REF_ARCH + hi) * sz:.0f} mm"
        )
    ratio = params.foot_width / params.foot_length
    if not 0.25 <= ratio <= 0.6:
        raise MeshError(
            f"foot_template: foot_width/foot_length = {ratio:.2f} is outside 0.25-0.60 "
            "(a typical foot is ~0.38); check the two values"
        )
    bones = {
        bone: tuple(lift_primitive(p, lift) for p in prims)
        for bone, prims in BONE_PRIMITIVES.items()
    }
    return TemplateGeometry(
        bones=bones,
        slices=SKIN_SLICES,
        scale=(sx, sy, sz),
        cut_height=REF_CUT_HEIGHT,
        joint_gap=JOINT_GAP,
        arch_lift=lift,
        params=params,
    )


def slice_outline(s: Slice, n: int = 40, roundness: float = 0.35) -> np.ndarray:
    """(n, 3) points of a skin cross-section (reference frame), starting at the heel end.

    x runs from ``xb`` to ``xf`` with cosine spacing; the medial (+y) and lateral (-y) edges are
    interpolated from the slice's stations, and the section's half width about their midline is
    multiplied by ``|sin t|**roundness`` so that both ends close smoothly on the midline.
    """
    t = 2.0 * np.pi * np.arange(n) / n
    x = 0.5 * (s.xb + s.xf) - 0.5 * (s.xf - s.xb) * np.cos(t)
    mx, mw = np.array(s.medial).T
    lx, lw = np.array(s.lateral).T
    med, lat = np.interp(x, mx, mw), np.interp(x, lx, lw)
    y = 0.5 * (med + lat) + 0.5 * (med - lat) * np.sign(np.sin(t)) * np.abs(np.sin(t)) ** roundness
    return np.column_stack([x, y, np.full(n, s.z)])


def skin_section(geo: TemplateGeometry, s: Slice, n: int = 40) -> np.ndarray:
    """(n, 3) reference-frame points of one skin cross-section of a template instance: the
    slice's outline (``slice_outline``) raised by the arch lift times the arch weight of each
    point times ``skin_lift_factor(s.z)``, so that the dorsum and the sides of the midfoot follow
    the bones under them (a high arch would otherwise push the navicular through the skin) while
    the sole and the proximal cut stay flat. For the reference arch it is the outline itself."""
    p = slice_outline(s, n)
    if geo.arch_lift:
        w = np.array([arch_weight(x, y) for x, y in p[:, :2]])
        p[:, 2] += geo.arch_lift * skin_lift_factor(s.z) * w
    return p


def grown(prim: Primitive, by: float) -> Primitive:
    """The primitive with its semi-axes or radius enlarged by ``by`` (mm)."""
    if isinstance(prim, Ellipsoid):
        return replace(prim, semi=tuple(v + by for v in prim.semi))  # type: ignore[arg-type]
    return replace(prim, radius=prim.radius + by)


def inside_primitive(prim: Primitive, points: np.ndarray) -> np.ndarray:
    """Which reference-frame points (N, 3) lie strictly inside a primitive."""
    if isinstance(prim, Ellipsoid):
        q = (np.asarray(points) - prim.centre) @ prim.rotation() / np.asarray(prim.semi)
        return np.einsum("ij,ij->i", q, q) < 1.0
    a, b = np.asarray(prim.a), np.asarray(prim.b)
    local = (np.asarray(points) - a) @ prim.rotation() / [1.0, prim.squash[0], prim.squash[1]]
    along = np.clip(local[:, 0], 0.0, float(np.linalg.norm(b - a)))
    return np.hypot(local[:, 0] - along, np.hypot(local[:, 1], local[:, 2])) < prim.radius


def signed_distance(prim: Primitive, points: np.ndarray) -> np.ndarray:
    """First-order signed distance (mm, reference frame) of points (N, 3) to a primitive's surface,
    negative inside: the implicit function over its gradient's length. Exact on the surface and
    accurate near it (to second order in the distance), which is what clearance checks need."""
    p = np.asarray(points, dtype=float)
    if isinstance(prim, Ellipsoid):
        semi = np.asarray(prim.semi)
        q = (p - prim.centre) @ prim.rotation() / semi
        n = np.maximum(np.linalg.norm(q, axis=1), 1e-9)
        grad = np.linalg.norm(q / semi, axis=1) / n
        return (n - 1.0) / np.maximum(grad, 1e-12)
    a, b = np.asarray(prim.a), np.asarray(prim.b)
    squash = np.array([1.0, prim.squash[0], prim.squash[1]])
    local = (p - a) @ prim.rotation() / squash
    local[:, 0] -= np.clip(local[:, 0], 0.0, float(np.linalg.norm(b - a)))
    d = np.maximum(np.linalg.norm(local, axis=1), 1e-9)
    grad = np.linalg.norm(local / squash, axis=1) / d
    return (d - prim.radius) / np.maximum(grad, 1e-12)


def primitives_overlap(a: Primitive, b: Primitive, n: int = 48) -> bool:
    """Whether two primitives overlap, tested on dense samples of both surfaces."""
    return bool(
        inside_primitive(a, primitive_surface_points(b, n)).any()
        or inside_primitive(b, primitive_surface_points(a, n)).any()
    )


def primitive_surface_points(prim: Primitive, n: int = 24) -> np.ndarray:
    """Points on a primitive's surface (reference frame), for plots and clearance checks."""
    u, v = np.meshgrid(
        np.linspace(0, 2 * np.pi, n, endpoint=False), np.linspace(0, np.pi, n // 2 + 1)
    )
    sphere = np.column_stack(
        [(np.cos(u) * np.sin(v)).ravel(), (np.sin(u) * np.sin(v)).ravel(), np.cos(v).ravel()]
    )
    if isinstance(prim, Ellipsoid):
        return prim.centre + (sphere * prim.semi) @ prim.rotation().T
    a, b = np.asarray(prim.a), np.asarray(prim.b)
    length = float(np.linalg.norm(b - a))
    rot = prim.rotation()
    ring = np.column_stack([np.zeros(n), np.cos(u[0]), np.sin(u[0])]) * prim.radius
    pts = [
        ring + np.array([t, 0.0, 0.0]) for t in np.linspace(0.0, length, max(2, int(length / 3)))
    ]
    ends = sphere * prim.radius
    pts.append(ends[ends[:, 0] <= 0])
    pts.append(ends[ends[:, 0] >= 0] + [length, 0, 0])
    local = np.vstack(pts) * [1.0, prim.squash[0], prim.squash[1]]
    return a + local @ rot.T


def skin_volume_area(geo: TemplateGeometry) -> tuple[float, float]:
    """Approximate volume (mm^3) and surface area (mm^2) of the skin loft in the subject's mm."""
    z, areas, perims = [], [], []
    for s in geo.slices:
        p = slice_outline(s, 120)[:, :2]
        q = np.roll(p, -1, axis=0)
        z.append(s.z)
        areas.append(0.5 * abs(float(np.sum(p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]))))
        perims.append(float(np.sum(np.linalg.norm(q - p, axis=1))))
    zz, aa, pp = np.array(z), np.array(areas), np.array(perims)
    volume = float(np.sum(0.5 * (aa[1:] + aa[:-1]) * np.diff(zz)))
    area = float(np.sum(0.5 * (pp[1:] + pp[:-1]) * np.diff(zz))) + aa[0] + aa[-1]
    sx, sy, sz = geo.scale
    return volume * sx * sy * sz, area * (sx * sy * sz) ** (2.0 / 3.0)


def _primitive_area(prim: Primitive) -> float:
    if isinstance(prim, Ellipsoid):  # Knud Thomsen's approximation
        a, b, c = prim.semi
        p = 1.6075
        return float(4 * np.pi * (((a * b) ** p + (a * c) ** p + (b * c) ** p) / 3) ** (1 / p))
    r = prim.radius * float(np.mean(prim.squash))
    length = float(np.linalg.norm(np.subtract(prim.b, prim.a)))
    return float(2 * np.pi * r * length + 4 * np.pi * r * r)


def bone_area(geo: TemplateGeometry) -> float:
    """Approximate total bone surface area (mm^2; overlaps of primitives are not removed)."""
    sx, sy, sz = geo.scale
    total = sum(_primitive_area(p) for prims in geo.bones.values() for p in prims)
    return total * (sx * sy * sz) ** (2.0 / 3.0)
