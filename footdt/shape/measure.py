"""Skin measurements of a foot shape (mm), defined once and used everywhere.

A measurement is a function of the skin (points + triangles, foot frame: x heel -> toes, y medial,
z up, ground z = 0) and the shape's landmarks (``footdt.shape.population.LANDMARKS``). The same
definitions measure an SSM shape, a scan fitted by the SSM and a morphed volume mesh's skin:

* ``foot_length``: heel to the tip of the longest toe (x extent of the skin);
* ``foot_width``: widest y extent of the skin in front of half the foot length (ball width);
* ``arch_height``: height of the navicular tuberosity above the ground (the template's definition
  of arch height; ``navicular_height`` is the same measurement);
* ``ball_girth``: perimeter of the skin cut by the vertical plane through the first and fifth
  metatarsal head centres;
* ``instep_height``: dorsum height at half the foot length;
* ``heel_width``: widest y extent of the skin behind 20 % of the foot length, below 30 mm;
* ``heel_to_ball``: heel to the first metatarsal head centre, along x;
* ``medial_malleolus_height`` / ``lateral_malleolus_height``: heights of the malleolus tips.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from footdt.domain import (
    LATERAL_MALLEOLUS_TIP,
    MEDIAL_MALLEOLUS_TIP,
    METATARSAL_1_HEAD_CENTRE,
    METATARSAL_5_HEAD_CENTRE,
    NAVICULAR_TUBEROSITY,
)

#: Names of the same measurement (alias -> canonical name).
ALIASES = {"navicular_height": "arch_height"}
UNITS = "mm"


@dataclass(frozen=True)
class Skin:
    """What a measurement looks at: skin points (P, 3), triangles (T, 3), landmarks (mm)."""

    points: np.ndarray
    triangles: np.ndarray
    landmarks: Mapping[str, np.ndarray]

    @property
    def heel_x(self) -> float:
        return float(self.points[:, 0].min())

    @property
    def length(self) -> float:
        return float(self.points[:, 0].max() - self.points[:, 0].min())

    def landmark(self, name: str) -> np.ndarray:
        if name not in self.landmarks:
            raise KeyError(f"the shape has no landmark {name!r}")
        return np.asarray(self.landmarks[name], dtype=float)


def plane_section(skin: Skin, origin: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Segments (K, 2, 3) where the plane (``origin``, ``normal``) cuts the skin triangles."""
    p, t = skin.points, skin.triangles
    s = (p - origin) @ (normal / np.linalg.norm(normal))
    st = s[t]
    cut = (st.min(axis=1) < 0.0) & (st.max(axis=1) >= 0.0)
    out = []
    for a, b in ((0, 1), (1, 2), (2, 0)):  # each triangle edge that crosses the plane
        sa, sb = st[cut, a], st[cut, b]
        cross = (sa < 0.0) != (sb < 0.0)
        w = np.divide(sa, sa - sb, out=np.zeros_like(sa), where=cross)
        pa, pb = p[t[cut, a]], p[t[cut, b]]
        out.append((pa + w[:, None] * (pb - pa), cross))
    pts = np.stack([q for q, _ in out], axis=1)  # (K, 3 edges, 3)
    crossing = np.stack([c for _, c in out], axis=1)  # (K, 3); two edges cross per triangle
    keep = crossing.sum(axis=1) == 2
    pts, crossing = pts[keep], crossing[keep]
    order = np.argsort(~crossing, axis=1, kind="stable")[:, :2]
    return np.take_along_axis(pts, order[:, :, None], axis=1)


def _width(points: np.ndarray) -> float:
    return float(points[:, 1].max() - points[:, 1].min()) if len(points) else float("nan")


def foot_length(skin: Skin) -> float:
    return skin.length


def foot_width(skin: Skin) -> float:
    front = skin.points[skin.points[:, 0] >= skin.heel_x + 0.5 * skin.length]
    return _width(front)


def arch_height(skin: Skin) -> float:
    return float(skin.landmark(NAVICULAR_TUBEROSITY)[2])


def ball_girth(skin: Skin) -> float:
    m1, m5 = skin.landmark(METATARSAL_1_HEAD_CENTRE), skin.landmark(METATARSAL_5_HEAD_CENTRE)
    along = np.array([m1[0] - m5[0], m1[1] - m5[1], 0.0])
    normal = np.cross(along, [0.0, 0.0, 1.0])
    seg = plane_section(skin, 0.5 * (m1 + m5), normal)
    seg = seg[seg[:, :, 0].min(axis=1) > skin.heel_x + 0.4 * skin.length]
    return float(np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1).sum())


def instep_height(skin: Skin) -> float:
    x = skin.heel_x + 0.5 * skin.length
    seg = plane_section(skin, np.array([x, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]))
    return float(seg[:, :, 2].max())


def heel_width(skin: Skin) -> float:
    p = skin.points
    back = p[(p[:, 0] <= skin.heel_x + 0.2 * skin.length) & (p[:, 2] <= 30.0)]
    return _width(back)


def heel_to_ball(skin: Skin) -> float:
    return float(skin.landmark(METATARSAL_1_HEAD_CENTRE)[0] - skin.heel_x)


def medial_malleolus_height(skin: Skin) -> float:
    return float(skin.landmark(MEDIAL_MALLEOLUS_TIP)[2])


def lateral_malleolus_height(skin: Skin) -> float:
    return float(skin.landmark(LATERAL_MALLEOLUS_TIP)[2])


MEASUREMENTS: dict[str, Callable[[Skin], float]] = {
    "foot_length": foot_length,
    "foot_width": foot_width,
    "arch_height": arch_height,
    "ball_girth": ball_girth,
    "instep_height": instep_height,
    "heel_width": heel_width,
    "heel_to_ball": heel_to_ball,
    "medial_malleolus_height": medial_malleolus_height,
    "lateral_malleolus_height": lateral_malleolus_height,
}


def canonical(name: str) -> str:
    """The canonical name of a measurement (``KeyError`` naming the known ones if unknown)."""
    key = ALIASES.get(name, name)
    if key not in MEASUREMENTS:
        known = ", ".join([*MEASUREMENTS, *ALIASES])
        raise KeyError(f"unknown measurement {name!r}; known: {known}")
    return key


def measure(skin: Skin, names: tuple[str, ...] | list[str] | None = None) -> dict[str, float]:
    """The named measurements (default: all) of a skin, mm."""
    return {n: MEASUREMENTS[canonical(n)](skin) for n in (names or list(MEASUREMENTS))}
