"""Corresponded foot shapes from the parametric template, and a reproducible synthetic population.

A shape is the template's skin sampled at fixed parametric coordinates plus internal bone
landmarks, all in mm in the foot frame (x heel -> toes, y medial, z up, ground z = 0):

* **skin** -- every slice of ``template_data.SKIN_SLICES`` is sampled at ``n_angles`` fixed
  angles by ``template.slice_outline``; rings between slices are interpolated per angle with a
  monotone cubic (PCHIP) through the slices (the mesher's loft is a smooth BSpline through the
  same sections; PCHIP is used because it does not overshoot the toe and heel profiles). The
  tube of rings is closed by a planar sole at z = 0 (columns of points across the footprint at
  the ring's x stations, as the loft's planar bottom cap) and stays open at the top ring: that
  is the proximal cut. Point ``i`` is the same parametric point on every shape.
* **landmarks** (``LANDMARKS``) -- material points of the bone primitives after the template's
  arch lift and scaling: support points (navicular tuberosity: most medial point, which is the
  template's ``arch_height``; malleolus tips: lowest points; calcaneal posterior tuberosity: most
  posterior point) and centres (M1/M5 heads, talus head).

Population (``draw_population``): per shape ``i`` a generator ``default_rng([seed, i])`` draws
standard-normal latent scores ``z`` with the correlations of ``CORRELATION`` (rejection-sampled
within the bounds). Size follows the cohort generator's distributions (``footdt.cohort.spec``
defaults; REFERENCE.md: foot length ~0.15 x stature, width ~0.38 x length): stature
N(1.76, 0.06) m, length/stature N(0.150, 0.004), width/length N(0.38, 0.018), navicular
height/length N(0.151, 0.015), independent of each other as in the cohort. Five skin factors
(SD units; magnitudes and correlations are assumptions, not measured data) deform the slice
stations smoothly in the reference frame, before scaling:

* ``heel_width``: half widths about the slice midline x (1 + 0.045 z) behind x = 50 mm, fading
  out by x = 100 mm; correlation -0.3 with width/length (the template already scales the heel
  with the ball width; this brings heel/ball width correlation below 1);
* ``forefoot_height`` (ball girth): heights x (1 + 0.07 z) from x = 150 mm to the toes (fading
  in from 110 mm); +0.35 with width/length (broad feet are also fuller);
* ``instep_height``: heights x (1 + 0.05 z) over x = 95-140 mm (0 at 55 and 180 mm); +0.5 with
  navicular height (a higher arch lifts the dorsum), +0.3 with forefoot height;
* ``toe_box``: lateral half widths x (1 + 0.10 z) in front of x = 235 mm (fading in from
  195 mm): square (+) vs tapered (-) toe box; +0.3 with width/length;
* ``arch_footprint``: medial half width of the sole x (1 - 0.22 z) under the arch (x = 85-115
  mm, 0 at 55 and 150 mm), fading out by 14 mm above the ground; +0.75 with navicular height
  (a higher arch has a narrower midfoot footprint).

Height changes fade out towards the proximal cut (factor 1 - (z / 110 mm)^2) so the cut stays
planar. Bones are not moved by the skin factors (only by length, width and arch height).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from footdt.anatomy.template import TemplateGeometry, build_template, slice_outline
from footdt.anatomy.template_data import SKIN_SLICES, Capsule, Ellipsoid
from footdt.domain import (
    CALCANEUS,
    CALCANEUS_POSTERIOR_TUBEROSITY,
    FIBULA,
    LATERAL_MALLEOLUS_TIP,
    MEDIAL_MALLEOLUS_TIP,
    METATARSAL_1,
    METATARSAL_1_HEAD_CENTRE,
    METATARSAL_5,
    METATARSAL_5_HEAD_CENTRE,
    NAVICULAR,
    NAVICULAR_TUBEROSITY,
    TALUS,
    TALUS_HEAD_CENTRE,
    TIBIA,
)
from footdt.spec.geometry import FootTemplate

#: Landmark name -> (bone, primitive index, support direction or None for the centre).
LANDMARK_DEFS: dict[str, tuple[str, int, tuple[float, float, float] | None]] = {
    NAVICULAR_TUBEROSITY: (NAVICULAR, 1, (0.0, 1.0, 0.0)),
    MEDIAL_MALLEOLUS_TIP: (TIBIA, 2, (0.0, 0.0, -1.0)),
    LATERAL_MALLEOLUS_TIP: (FIBULA, 0, (0.0, 0.0, -1.0)),
    METATARSAL_1_HEAD_CENTRE: (METATARSAL_1, 2, None),
    METATARSAL_5_HEAD_CENTRE: (METATARSAL_5, 2, None),
    CALCANEUS_POSTERIOR_TUBEROSITY: (CALCANEUS, 0, (-1.0, 0.0, 0.0)),
    TALUS_HEAD_CENTRE: (TALUS, 2, None),
}
LANDMARKS: tuple[str, ...] = tuple(LANDMARK_DEFS)
#: Skin factor names (SD units) in the order of the latent scores after the four size scores.
FACTORS = ("heel_width", "forefoot_height", "instep_height", "toe_box", "arch_footprint")
#: Latent scores: stature, length/stature, width/length, arch/length, then ``FACTORS``.
LATENT = ("stature", "length_ratio", "width_ratio", "arch_ratio", *FACTORS)
_PAIRS = {
    ("width_ratio", "heel_width"): -0.3,
    ("width_ratio", "forefoot_height"): 0.35,
    ("width_ratio", "toe_box"): 0.3,
    ("arch_ratio", "instep_height"): 0.5,
    ("arch_ratio", "arch_footprint"): 0.75,
    ("forefoot_height", "instep_height"): 0.3,
}
CORRELATION = np.eye(len(LATENT))
for (_a, _b), _r in _PAIRS.items():
    CORRELATION[LATENT.index(_a), LATENT.index(_b)] = CORRELATION[
        LATENT.index(_b), LATENT.index(_a)
    ] = _r
#: Height of the proximal cut in the reference frame (mm): the top slice.
_Z_CUT = 110.0


@dataclass(frozen=True)
class ShapeParams:
    """Generating parameters of one shape: template size (mm) and skin factors (SD units)."""

    foot_length: float = 265.0
    foot_width: float = 100.0
    arch_height: float = 40.0
    heel_width: float = 0.0
    forefoot_height: float = 0.0
    instep_height: float = 0.0
    toe_box: float = 0.0
    arch_footprint: float = 0.0

    def template(self) -> FootTemplate:
        return FootTemplate(
            type="foot_template",
            foot_length=self.foot_length,
            foot_width=self.foot_width,
            arch_height=self.arch_height,
        )


@dataclass(frozen=True)
class FootShape:
    """Corresponded skin points (P, 3) mm, the fixed skin triangles (T, 3) and landmarks (L, 3) mm."""

    skin: np.ndarray
    triangles: np.ndarray
    landmarks: np.ndarray
    landmark_names: tuple[str, ...] = LANDMARKS
    params: dict[str, Any] | None = None  # generating parameters, or where the shape came from

    def vector(self) -> np.ndarray:
        """The shape as one vector (3P + 3L,): skin x, y, z per point, then landmarks."""
        return np.concatenate([self.skin.ravel(), self.landmarks.ravel()])

    def landmark(self, name: str) -> np.ndarray:
        return self.landmarks[self.landmark_names.index(name)]


def _smooth(x: np.ndarray, x0: float, x1: float) -> np.ndarray:
    """Smoothstep from 0 at ``x0`` to 1 at ``x1`` (either order)."""
    t = np.clip((x - x0) / (x1 - x0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def deform_rings(rings: np.ndarray, p: ShapeParams) -> np.ndarray:
    """Apply the skin factors to slice rings (S, n, 3) in the reference frame (mm)."""
    out = rings.copy()
    n = rings.shape[1]
    partner = (n - np.arange(n)) % n
    medial = np.zeros(n, dtype=bool)
    medial[1 : n // 2] = True
    lateral = np.zeros(n, dtype=bool)
    lateral[n // 2 + 1 :] = True
    x, y, z = rings[..., 0], rings[..., 1], rings[..., 2]
    mid = 0.5 * (y + y[:, partner])
    scale = 1.0 + 0.045 * p.heel_width * _smooth(x, 100.0, 50.0) * _smooth(z, 50.0, 30.0)
    scale *= 1.0 + np.where(lateral, 0.10 * p.toe_box * _smooth(x, 195.0, 235.0), 0.0)
    arch = _smooth(x, 55.0, 85.0) * _smooth(x, 150.0, 115.0) * _smooth(z, 14.0, 0.0)
    scale *= 1.0 - np.where(medial, 0.22 * p.arch_footprint * arch, 0.0)
    out[..., 1] = mid + (y - mid) * scale
    lift = 0.07 * p.forefoot_height * _smooth(x, 110.0, 150.0)
    bump = _smooth(x, 55.0, 95.0) * _smooth(x, 180.0, 140.0)
    zfac = (1.0 + lift * (1.0 - (z / _Z_CUT) ** 2)) * (
        1.0 + 0.05 * p.instep_height * bump * (1.0 - (z / _Z_CUT) ** 2)
    )
    out[..., 2] = z * zfac
    return out


@dataclass(frozen=True)
class Resolution:
    """Sampling of the skin: angles per ring, max ring spacing (reference mm), sole columns."""

    n_angles: int = 80
    ring_step: float = 4.0
    sole_inner: int = 7


def _ring_params(geo: TemplateGeometry, res: Resolution) -> np.ndarray:
    """Reference-frame slice heights at which rings are sampled (fixed for a resolution)."""
    zs = np.array([s.z for s in geo.slices])
    u = [zs[:1]]
    for z0, z1 in itertools.pairwise(zs):
        m = max(1, int(np.ceil((z1 - z0) / res.ring_step)))
        u.append(np.linspace(z0, z1, m + 1)[1:])
    return np.concatenate(u)


_FINE = 4096  # outline samples from which the fixed angles are picked


@functools.cache
def _angle_indices(n: int) -> np.ndarray:
    """Which of ``_FINE`` uniform outline angles are sampled: about equal arc length on the
    reference slices (averaged over slices and both sides), symmetric so that points ``j`` and
    ``n - j`` share their x station."""
    half = _FINE // 2
    arc = np.zeros(half + 1)
    for s in SKIN_SLICES:
        q = slice_outline(s, _FINE)
        step = np.linalg.norm(np.diff(np.vstack([q, q[:1]]), axis=0), axis=1)
        med = np.concatenate([[0.0], np.cumsum(step[:half])])
        lat = np.concatenate([[0.0], np.cumsum(step[::-1][:half])])
        arc += med / med[-1] + lat / lat[-1]
    arc /= arc[-1]
    idx = np.searchsorted(arc, np.linspace(0.0, 1.0, n // 2 + 1))
    idx = np.clip(idx, 0, half)
    idx[0], idx[-1] = 0, half
    if np.any(np.diff(idx) <= 0):
        raise ValueError(f"n_angles = {n} is too fine for the outline sampling")
    return np.concatenate([idx, _FINE - idx[-2:0:-1]])


@functools.cache
def skin_triangles(n_rings: int, res: Resolution = Resolution()) -> np.ndarray:
    """The fixed triangle list (T, 3) of the skin: ring tube (outward normals) + planar sole."""
    n, m = res.n_angles, res.sole_inner
    r, j = np.meshgrid(np.arange(n_rings - 1), np.arange(n), indexing="ij")
    a, b = r * n + j, r * n + (j + 1) % n
    c, d = a + n, b + n
    tube = np.concatenate([np.stack([a, c, d], -1), np.stack([a, d, b], -1)]).reshape(-1, 3)
    base = n_rings * n

    def column(i: int) -> list[int]:
        if i in (0, n // 2):
            return [i]
        return [n - i, *range(base + (i - 1) * m, base + i * m), i]

    sole = []
    for i in range(n // 2):
        c0, c1 = column(i), column(i + 1)
        if len(c0) == 1:
            sole += [(c0[0], c1[k + 1], c1[k]) for k in range(len(c1) - 1)]
        elif len(c1) == 1:
            sole += [(c0[k], c0[k + 1], c1[0]) for k in range(len(c0) - 1)]
        else:
            for k in range(len(c0) - 1):
                sole += [(c0[k], c0[k + 1], c1[k + 1]), (c0[k], c1[k + 1], c1[k])]
    return np.concatenate([tube, np.asarray(sole)]).astype(np.int64)


def _geometry(
    source: TemplateGeometry | FootTemplate | ShapeParams,
) -> tuple[TemplateGeometry, ShapeParams]:
    if isinstance(source, TemplateGeometry):
        t = source.params
        return source, ShapeParams(t.foot_length, t.foot_width, t.arch_height)
    if isinstance(source, FootTemplate):
        return build_template(source), ShapeParams(
            source.foot_length, source.foot_width, source.arch_height
        )
    return build_template(source.template()), source


def corresponded_skin(
    source: TemplateGeometry | FootTemplate | ShapeParams, res: Resolution = Resolution()
) -> tuple[np.ndarray, np.ndarray]:
    """Skin points (P, 3) mm at fixed parametric coordinates and the fixed triangles (T, 3).

    Points: ``R`` rings of ``n_angles`` points (ring ``r``, angle ``j`` -> ``r * n + j``, ring 0
    on the ground, the last ring the open proximal cut), then the sole's interior points.
    """
    geo, params = _geometry(source)
    n = res.n_angles
    if n % 2 or n < 8:
        raise ValueError(f"n_angles must be even and >= 8, got {n}")
    rings = np.stack([slice_outline(s, _FINE)[_angle_indices(n)] for s in geo.slices])
    rings = rings + cap_inward(geo, rings, deform_rings(rings, params) - rings)
    u = _ring_params(geo, res)
    from scipy.interpolate import PchipInterpolator

    zs = np.array([s.z for s in geo.slices])
    dense = PchipInterpolator(zs, rings.reshape(len(zs), -1), axis=0)(u).reshape(len(u), n, 3)
    dense = keep_tissue(geo, dense)
    i = np.arange(1, n // 2)
    lat, med = dense[0, n - i], dense[0, i]
    s = np.arange(1, res.sole_inner + 1) / (res.sole_inner + 1)
    sole = lat[:, None, :] + s[None, :, None] * (med - lat)[:, None, :]
    points = np.concatenate([dense.reshape(-1, 3), sole.reshape(-1, 3)])
    return geo.to_mm(points), skin_triangles(len(u), res)


#: Minimum soft-tissue thickness over a bone (mm, reference frame) and its smoothing length.
TISSUE_MIN, TISSUE_SOFT = 3.0, 0.5


def _ellipsoid_distance(prim: Ellipsoid, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance (mm, negative inside) and outward normal at the closest surface point."""
    rot, a2 = prim.rotation(), np.asarray(prim.semi, dtype=float) ** 2
    q = (p - np.asarray(prim.centre)) @ rot
    lo = np.full(len(q), -a2.min() * (1 - 1e-12))
    hi = np.sqrt(a2.max()) * np.linalg.norm(q, axis=1) + 1e-9
    for _ in range(60):  # F(t) = sum(a_i q_i / (t + a_i^2))^2 - 1 decreases on (-min a^2, inf)
        t = 0.5 * (lo + hi)
        f = np.sum((np.sqrt(a2) * q / (t[:, None] + a2)) ** 2, axis=1) - 1.0
        lo, hi = np.where(f > 0, t, lo), np.where(f > 0, hi, t)
    x = a2 * q / ((0.5 * (lo + hi))[:, None] + a2)
    normal = x / a2
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    inside = np.sum(q * q / a2, axis=1) < 1.0
    d = np.linalg.norm(q - x, axis=1) * np.where(inside, -1.0, 1.0)
    return d, normal @ rot.T


def _capsule_distance(prim: Capsule, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance and outward normal of a capsule (its squash treated to first order)."""
    rot, a = prim.rotation(), np.asarray(prim.a, dtype=float)
    sq = np.array([1.0, *prim.squash])
    local = (p - a) @ rot / sq
    along = np.clip(local[:, 0], 0.0, float(np.linalg.norm(np.subtract(prim.b, prim.a))))
    v = local - np.column_stack([along, np.zeros((len(p), 2))])
    r = np.maximum(np.linalg.norm(v, axis=1), 1e-12)
    surface = np.column_stack([along, np.zeros((len(p), 2))]) + prim.radius * v / r[:, None]
    offset = (local - surface) * sq
    normal = v / r[:, None] / sq
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    d = np.linalg.norm(offset, axis=1) * np.where(r < prim.radius, -1.0, 1.0)
    return d, normal @ rot.T


def bone_clearance(geo: TemplateGeometry, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance (mm) from reference-frame points (N, 3) to the nearest bone primitive
    (negative inside a bone) and the outward normal (N, 3) of that bone at its closest point."""
    best = np.full(len(points), np.inf)
    normal = np.zeros((len(points), 3))
    for prims in geo.bones.values():
        for prim in prims:
            # only where the primitive may be the nearest: its distance is at least the distance
            # to its centre (ellipsoid) or axis (capsule) less its largest extent
            todo = np.flatnonzero(_lower_bound(prim, points) < best)
            if not len(todo):
                continue
            if isinstance(prim, Ellipsoid):
                d, n = _ellipsoid_distance(prim, points[todo])
            else:
                d, n = _capsule_distance(prim, points[todo])
            closer = d < best[todo]
            best[todo[closer]], normal[todo[closer]] = d[closer], n[closer]
    return best, normal


def _lower_bound(prim: Ellipsoid | Capsule, p: np.ndarray) -> np.ndarray:
    """A lower bound (mm) of the distance from points (N, 3) to a primitive's surface."""
    if isinstance(prim, Ellipsoid):
        return np.linalg.norm(p - np.asarray(prim.centre), axis=1) - max(prim.semi)
    a, b = np.asarray(prim.a, dtype=float), np.asarray(prim.b, dtype=float)
    t = np.clip((p - a) @ (b - a) / max(float((b - a) @ (b - a)), 1e-12), 0.0, 1.0)
    reach = prim.radius * max(1.0, *prim.squash)
    return np.linalg.norm(p - (a + t[:, None] * (b - a)), axis=1) - reach


def cap_inward(geo: TemplateGeometry, points: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Shifts (..., 3) of reference-frame points, shrunk where they would push the skin into a
    bone: the part towards the nearest bone, ``s``, becomes ``a tanh(s / a)`` with ``a`` the
    clearance beyond ``TISSUE_MIN`` (the whole shift is scaled by the same factor)."""
    c, normal = bone_clearance(geo, points.reshape(-1, 3))
    d = shift.reshape(-1, 3)
    inward = np.maximum(-np.einsum("ij,ij->i", d, normal), 0.0)
    room = np.maximum(c - TISSUE_MIN, 1e-9)
    kept = room * np.tanh(inward / room)
    factor = np.divide(kept, inward, out=np.ones_like(inward), where=inward > 1e-12)
    return (d * factor[:, None]).reshape(shift.shape)


def keep_tissue(geo: TemplateGeometry, rings: np.ndarray) -> np.ndarray:
    """Push ring points (R, n, 3) out along the nearest bone's normal so that the soft tissue is
    at least ~``TISSUE_MIN`` thick: clearance c becomes ``TISSUE_MIN + s log(1 + exp((c -
    TISSUE_MIN) / s))`` (s = ``TISSUE_SOFT``; unchanged to < 0.01 mm where c > 4 mm). The ground
    and cut rings keep their z."""
    pts = rings.reshape(-1, 3)
    c, normal = bone_clearance(geo, pts)
    u = (c - TISSUE_MIN) / TISSUE_SOFT
    push = TISSUE_MIN + TISSUE_SOFT * np.logaddexp(0.0, u) - c
    moved = (pts + np.where(u < 12.0, push, 0.0)[:, None] * normal).reshape(rings.shape)
    moved[[0, -1], :, 2] = rings[[0, -1], :, 2]
    return moved


def _support(centre: np.ndarray, rot: np.ndarray, semi: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Point of an ellipsoid (centre, rotation, semi-axes) furthest along ``d``."""
    m = rot @ np.diag(semi**2) @ rot.T
    return centre + m @ d / np.sqrt(d @ m @ d)


def bone_landmarks(geo: TemplateGeometry) -> np.ndarray:
    """The ``LANDMARKS`` (L, 3) mm of a template instance (lifted, scaled primitives)."""
    out = []
    for bone, k, direction in LANDMARK_DEFS.values():
        prim = geo.bones[bone][k]
        centre = np.asarray(getattr(prim, "centre", None), dtype=float)
        if direction is None:
            out.append(centre)
        else:
            semi = np.asarray(prim.semi, dtype=float)  # type: ignore[union-attr]
            out.append(_support(centre, prim.rotation(), semi, np.asarray(direction)))
    return geo.to_mm(np.array(out))


def foot_shape(params: ShapeParams, res: Resolution = Resolution()) -> FootShape:
    """The corresponded shape (skin + landmarks, mm) of one set of generating parameters."""
    geo = build_template(params.template())
    skin, tris = corresponded_skin(params, res)
    return FootShape(skin, tris, bone_landmarks(geo), LANDMARKS, asdict(params))


def draw_params(seed: int, index: int) -> ShapeParams:
    """Generating parameters of shape ``index`` of the population ``seed`` (see module doc)."""
    from footdt.cohort.spec import CohortSpec

    spec = CohortSpec()
    dists = [spec.height_m, spec.foot_length_ratio, spec.hidden.width_ratio, spec.hidden.arch_ratio]
    bounds = [
        (-np.inf if d.low is None else d.low, np.inf if d.high is None else d.high) for d in dists
    ]
    lo = np.array(
        [(b[0] - d.mean) / d.sd for b, d in zip(bounds, dists, strict=True)] + [-3.0] * len(FACTORS)
    )
    hi = np.array(
        [(b[1] - d.mean) / d.sd for b, d in zip(bounds, dists, strict=True)] + [3.0] * len(FACTORS)
    )
    chol = np.linalg.cholesky(CORRELATION)
    rng = np.random.default_rng([seed, index])
    while True:
        z = chol @ rng.standard_normal(len(LATENT))
        if np.all((z >= lo) & (z <= hi)):
            break
    stature, lr, wr, ar = (d.mean + d.sd * v for d, v in zip(dists, z[:4], strict=True))
    length = 1000.0 * stature * lr
    return ShapeParams(length, wr * length, ar * length, *map(float, z[4:]))


def draw_population(n: int, seed: int = 0, res: Resolution = Resolution()) -> list[FootShape]:
    """``n`` corresponded shapes, reproducible from ``seed`` (shape ``i`` never depends on ``n``)."""
    return [foot_shape(draw_params(seed, i), res) for i in range(n)]
