"""Design tables of the reference right foot (265 x 100 mm, navicular height 40 mm). Units: mm.

Foot frame: x anterior (heel skin at x = 0), y medial, z up (ground z = 0). Every bone is a union of
ellipsoids and capsules; the skin is lofted through horizontal cross-sections. Positions and sizes
were calibrated against the OpenSim foot bones (docs/anatomy.md has the comparison table) and
literature soft-tissue thicknesses: heel pad ~17 mm under the calcaneus, ~11 mm under the
metatarsal heads, ~7 mm under the toes, ~8 mm behind the heel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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

Vec3 = tuple[float, float, float]


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Rz(yaw) Ry(-pitch) Rx(roll), degrees: local x points at yaw and rises by pitch."""
    cy, sy = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
    cp, sp = math.cos(math.radians(-pitch)), math.sin(math.radians(-pitch))
    cr, sr = math.cos(math.radians(roll)), math.sin(math.radians(roll))
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    return rz @ ry @ rx


@dataclass(frozen=True)
class Ellipsoid:
    """Ellipsoid with semi-axes along its local x, y, z, turned by (yaw, pitch, roll) degrees."""

    centre: Vec3
    semi: Vec3
    rot: Vec3 = (0.0, 0.0, 0.0)

    def rotation(self) -> np.ndarray:
        return _rotation(*self.rot)


@dataclass(frozen=True)
class Capsule:
    """Cylinder from ``a`` to ``b`` with hemispherical ends; its section is squashed by
    ``squash`` along the local y (horizontal) and local z axes."""

    a: Vec3
    b: Vec3
    radius: float
    squash: tuple[float, float] = (1.0, 1.0)

    def rotation(self) -> np.ndarray:
        d = np.subtract(self.b, self.a)
        ex = d / np.linalg.norm(d)
        ey = np.cross([0.0, 0.0, 1.0], ex)
        ey = ey / np.linalg.norm(ey) if np.linalg.norm(ey) > 1e-9 else np.array([0.0, 1.0, 0.0])
        return np.column_stack([ex, ey, np.cross(ex, ey)])


@dataclass(frozen=True)
class Slice:
    """A horizontal skin section at height z from x = xb to xf; half widths (x, w) per side."""

    z: float
    xb: float
    xf: float
    medial: tuple[tuple[float, float], ...]
    lateral: tuple[tuple[float, float], ...]


E, C = Ellipsoid, Capsule

BONE_PRIMITIVES: dict[str, tuple[Ellipsoid | Capsule, ...]] = {  # every bone of domain.BONES
    CALCANEUS: (
        E((30.0, 9.0, 37.0), (22.0, 16.5, 19.5), (0.0, 10.0, 0.0)),  # posterior tuberosity
        E((55.0, 7.0, 43.0), (29.0, 15.5, 15.0), (-8.0, 12.0, 0.0)),  # body, anterior process
        E((25.0, 17.0, 24.0), (13.0, 8.0, 7.0)),  # medial process
        E((25.0, -1.0, 24.5), (12.0, 7.0, 6.5)),  # lateral process
        E((60.0, 23.0, 50.0), (10.0, 8.0, 4.5)),  # sustentaculum tali
    ),
    TALUS: (
        E((66.0, 12.0, 68.0), (17.0, 15.0, 12.5)),  # body with the trochlea
        C((76.0, 15.0, 64.0), (85.0, 19.0, 59.0), 8.0),  # neck
        E((90.0, 21.0, 56.0), (9.5, 11.5, 9.5), (25.0, -20.0, 0.0)),  # head
    ),
    NAVICULAR: (
        E((101.0, 24.0, 52.0), (8.0, 16.0, 10.5), (-10.0, 0.0, -15.0)),
        E((97.0, 37.0, 40.0), (6.0, 5.5, 5.5)),  # tuberosity: its most medial point is at z = 40
    ),
    CUBOID: (E((93.0, -6.0, 39.0), (12.5, 9.5, 8.5), (-27.0, 5.0, 0.0)),),
    CUNEIFORM_MEDIAL: (E((118.0, 29.0, 38.0), (12.0, 8.5, 14.5), (5.0, 0.0, 10.0)),),
    CUNEIFORM_INTERMEDIATE: (E((111.0, 16.0, 48.0), (8.5, 6.5, 9.0)),),
    CUNEIFORM_LATERAL: (E((103.0, 4.0, 45.0), (10.5, 7.5, 9.0), (-15.0, 0.0, 0.0)),),
    METATARSAL_1: (
        E((133.0, 27.0, 37.0), (8.0, 9.0, 12.5), (6.0, -20.0, 0.0)),
        C((136.0, 28.0, 34.0), (178.0, 31.0, 22.0), 6.5),
        E((180.0, 31.0, 21.0), (9.0, 9.0, 9.5)),
    ),
    METATARSAL_2: (
        E((125.0, 10.0, 47.0), (7.0, 7.0, 9.0), (-6.0, -25.0, 0.0)),
        C((128.0, 9.0, 44.0), (180.0, 4.0, 19.0), 4.5),
        E((182.0, 3.5, 17.5), (7.0, 6.0, 7.0)),
    ),
    METATARSAL_3: (
        E((115.0, -3.0, 44.0), (6.5, 6.5, 8.5), (-6.0, -22.0, 0.0)),
        C((118.0, -4.0, 41.0), (168.0, -9.5, 19.0), 4.3),
        E((170.0, -10.0, 17.5), (6.5, 5.5, 6.5)),
    ),
    METATARSAL_4: (
        E((104.0, -13.0, 41.0), (6.5, 6.5, 8.0), (-9.0, -18.0, 0.0)),
        C((107.0, -14.0, 39.0), (159.0, -21.5, 19.5), 4.2),
        E((161.0, -22.0, 18.0), (6.5, 5.5, 6.5)),
    ),
    METATARSAL_5: (
        E((89.0, -27.0, 34.0), (11.5, 7.5, 7.5), (40.0, -10.0, 0.0)),  # base with the tuberosity
        C((93.0, -25.0, 33.0), (145.0, -33.5, 20.0), 4.5),
        E((147.0, -34.0, 18.5), (6.5, 5.5, 6.5)),
    ),
    PHALANGES: (  # lumped, one solid per ray
        C((196.0, 30.0, 17.0), (249.0, 23.0, 14.0), 8.0, (1.1, 0.85)),
        C((192.0, 3.0, 15.5), (236.0, -4.0, 11.0), 4.8, (1.1, 0.95)),
        C((180.0, -11.0, 15.5), (222.0, -19.0, 11.0), 4.5, (1.1, 0.95)),
        C((169.0, -23.5, 16.0), (207.0, -31.0, 11.0), 4.3, (1.1, 0.95)),
        C((155.0, -36.0, 17.0), (188.0, -39.5, 11.5), 4.2, (1.1, 0.95)),
    ),
    TIBIA: (
        E((64.0, 12.0, 92.0), (19.0, 21.0, 10.0)),  # distal epiphysis (plafond)
        C((63.0, 11.0, 90.0), (63.0, 11.0, 140.0), 16.0, (1.1, 1.0)),  # shaft, cut at the top
        E((63.0, 30.0, 78.0), (9.0, 6.0, 14.0)),  # medial malleolus
    ),
    FIBULA: (
        E((60.0, -10.5, 67.0), (8.0, 6.0, 14.0)),  # lateral malleolus
        C((59.0, -14.0, 72.0), (58.0, -14.0, 140.0), 7.0),  # shaft, cut at the top
    ),
}

S = Slice
# fmt: off
# S(z, xb, xf, medial (x, y) stations, lateral (x, y) stations)
SKIN_SLICES: tuple[Slice, ...] = (
    S(0.0, 11.0, 258.0,
      ((20, 24), (45, 30), (70, 22), (95, 10), (120, 12), (150, 30), (180, 43), (205, 43), (230, 40), (250, 36)),
      ((20, -20), (45, -25), (70, -29), (95, -34), (120, -40), (150, -44), (180, -42), (205, -36), (230, -22), (250, -4))),
    S(6.0, 4.0, 263.0,
      ((20, 29), (45, 35), (70, 36), (95, 32), (120, 33), (150, 42), (180, 48), (205, 48), (230, 44), (250, 39)),
      ((20, -24), (45, -28), (70, -32), (95, -40), (120, -45), (150, -49), (180, -48), (205, -45), (230, -28), (250, -6))),
    S(14.0, 1.0, 265.0,
      ((20, 32), (45, 37), (70, 39), (95, 42), (120, 44), (150, 48), (180, 51), (205, 49), (230, 45), (250, 40)),
      ((20, -27), (45, -30), (70, -35), (95, -43), (120, -47), (150, -51), (180, -50), (205, -47), (230, -30), (250, -7))),
    S(22.0, 0.0, 258.0,
      ((20, 33), (45, 38), (70, 40), (95, 44), (120, 45), (150, 48), (180, 51), (205, 48), (230, 44), (250, 38)),
      ((20, -28), (45, -31), (70, -36), (90, -43), (120, -47), (150, -51), (180, -50), (205, -46), (230, -30), (250, -8))),
    S(27.0, 0.0, 238.0,
      ((20, 33), (45, 38), (70, 40), (95, 46), (120, 45), (150, 48), (180, 49), (205, 45), (230, 40)),
      ((20, -28), (45, -31), (70, -36), (90, -43), (120, -47), (150, -50), (180, -48), (205, -44), (230, -26))),
    S(33.0, 0.0, 200.0,
      ((20, 33), (45, 38), (70, 40), (95, 49), (120, 47), (150, 47), (175, 43)),
      ((20, -28), (45, -31), (70, -36), (90, -43), (120, -45), (150, -45), (175, -40))),
    S(45.0, 1.0, 160.0,
      ((20, 32), (45, 37), (70, 40), (95, 50), (120, 46), (140, 44)),
      ((20, -27), (45, -30), (70, -33), (95, -38), (120, -38), (140, -33))),
    S(60.0, 4.0, 138.0,
      ((20, 29), (45, 36), (70, 44), (95, 43), (115, 37)),
      ((20, -25), (45, -28), (70, -27), (95, -32), (115, -30))),
    S(72.0, 10.0, 118.0,
      ((25, 27), (45, 36), (65, 45), (90, 40), (105, 32)),
      ((25, -22), (45, -25), (65, -24), (90, -26), (105, -22))),
    S(85.0, 15.0, 104.0,
      ((25, 25), (45, 34), (65, 44), (85, 37)),
      ((25, -21), (45, -25), (65, -25), (85, -22))),
    S(97.0, 19.0, 93.0,
      ((30, 24), (50, 33), (65, 38), (80, 35)),
      ((30, -21), (50, -26), (65, -27), (80, -22))),
    S(110.0, 22.0, 90.0,
      ((30, 24), (50, 33), (65, 36), (80, 33)),
      ((30, -21), (50, -27), (65, -28), (80, -22))),
)
# fmt: on
