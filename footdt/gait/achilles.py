"""Achilles tendon force: ankle plantarflexion moment / Achilles moment arm from an OpenSim model.

1. **Moment.** In the sagittal plane of the foot (x anterior, z up, N and mm), the ground
   reaction force ``F = (Fx, Fz)`` acts at the centre of pressure (COP). With ``r = COP - ankle``
   (ground frame), the internal ankle **plantarflexion** moment that balances it is
   ``M = r_x F_z - r_z F_x`` (N m after /1000): the y-component of ``r x F`` with the sign
   flipped, positive when the GRF acts in front of the ankle. Foot inertia is neglected
   (quasi-static stance, as in the FE phases). A negative ``M`` is carried by the dorsiflexors:
   the Achilles force is then 0.
2. **Moment arm.** ``build_opensim_model`` builds a sagittal foot-shank model with the
   ``opensim`` Python API: bodies ``shank`` (welded to ground) and ``foot``, a ``PinJoint``
   ``ankle`` (coordinate ``ankle_angle``, dorsiflexion positive) and a ``PathSpring``
   ``achilles`` from the calf (soleus/gastrocnemius origin region, on the shank) over the
   posterior-superior calcaneus (via point) to the calcaneal tuberosity (insertion). Its moment
   arm is OpenSim's ``GeometryPath.computeMomentArm`` after setting ``ankle_angle`` (negated:
   OpenSim's sign follows the dorsiflexion coordinate). Geometry: ``FootShankGeometry``,
   scaled by foot length and shank length; at 265 mm it gives ~50 mm in neutral and ~44 mm at
   20 deg dorsiflexion (REFERENCE.md: 40-55 mm).
3. **Force** ``= M / moment arm`` (N); its line of action is the free tendon (via point -> calf)
   expressed in the foot frame, so the FE load is ``force * direction`` on ``achilles_insertion``.

When ``opensim`` cannot be imported, ``achilles_model(method="auto")`` falls back to
``GeometricAchillesModel``: the *same* path geometry with the moment arm computed in closed
form (perpendicular distance from the ankle axis to the free tendon line). It is named
``"geometric fallback (opensim not installed)"`` in every result and a ``UserWarning`` says so;
``method="opensim"`` refuses to fall back.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike

from footdt.errors import FootdtError

Method = Literal["auto", "opensim", "geometric"]
GEOMETRIC_NAME = "geometric fallback (opensim not installed)"


@dataclass(frozen=True)
class FootShankGeometry:
    """Sagittal landmarks (mm). Foot frame: heel at x = 0, ground z = 0, x anterior, z up;
    the calf point is in the shank frame relative to the ankle centre (z along the shank)."""

    foot_length_mm: float = 265.0
    shank_length_mm: float = 433.0

    @classmethod
    def for_subject(cls, foot_length_mm: float, height_m: float) -> FootShankGeometry:
        """Shank (knee-ankle) length 0.246 x stature (Winter's segment proportions)."""
        return cls(foot_length_mm, 246.0 * height_m)

    @property
    def ankle_mm(self) -> np.ndarray:
        """Ankle (talocrural) centre: 0.22 L anterior of the heel, 0.26 L above the ground."""
        return np.array([0.22, 0.26]) * self.foot_length_mm

    @property
    def via_mm(self) -> np.ndarray:
        """Posterior-superior calcaneus, where the free tendon leaves the bone (foot frame)."""
        return self.ankle_mm + np.array([-0.19, -0.02]) * self.foot_length_mm

    @property
    def insertion_mm(self) -> np.ndarray:
        """Calcaneal tuberosity (Achilles insertion, foot frame)."""
        return np.array([0.05, 0.13]) * self.foot_length_mm

    @property
    def calf_mm(self) -> np.ndarray:
        """Triceps surae origin region, shank frame relative to the ankle (x anterior, z up)."""
        return np.array([-0.07, 0.70]) * self.shank_length_mm


def _rot(deg: float) -> np.ndarray:
    """Sagittal rotation of the foot by ``deg`` of dorsiflexion (x toward z)."""
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


class AchillesModel(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def geometry(self) -> FootShankGeometry: ...

    def moment_arm_mm(self, ankle_deg: ArrayLike) -> np.ndarray: ...

    def line_of_action(self, ankle_deg: float) -> np.ndarray: ...


class _Common:
    geometry: FootShankGeometry

    def line_of_action(self, ankle_deg: float) -> np.ndarray:
        """Unit vector (3,) of the tendon pull on the calcaneus, foot frame (x, y, z)."""
        g = self.geometry
        via = _rot(ankle_deg) @ (g.via_mm - g.ankle_mm)  # shank frame (= ground here)
        d = _rot(-ankle_deg) @ (g.calf_mm - via)  # back into the foot frame
        d = d / np.linalg.norm(d)
        return np.array([d[0], 0.0, d[1]])


class GeometricAchillesModel(_Common):
    """Closed-form moment arm of the same path (the fallback when OpenSim is missing)."""

    method = GEOMETRIC_NAME

    def __init__(self, geometry: FootShankGeometry) -> None:
        self.geometry = geometry

    def moment_arm_mm(self, ankle_deg: ArrayLike) -> np.ndarray:
        g = self.geometry
        out = []
        for deg in np.atleast_1d(np.asarray(ankle_deg, float)):
            via = _rot(deg) @ (g.via_mm - g.ankle_mm)
            u = (g.calf_mm - via) / np.linalg.norm(g.calf_mm - via)
            out.append(abs(via[0] * u[1] - via[1] * u[0]))
        return np.asarray(out).reshape(np.shape(ankle_deg))


class OpenSimAchillesModel(_Common):
    """Moment arms computed by OpenSim on the model of ``build_opensim_model``."""

    def __init__(self, geometry: FootShankGeometry) -> None:
        import opensim

        self.geometry = geometry
        self.method = f"opensim {opensim.GetVersion()}"
        self._model, self._spring = build_opensim_model(geometry)
        self._state = self._model.initSystem()
        self._coord = self._model.getCoordinateSet().get("ankle_angle")
        self._cache: dict[float, float] = {}

    def _one(self, deg: float) -> float:
        key = round(float(deg), 6)
        if key not in self._cache:
            self._coord.setValue(self._state, np.radians(key))
            self._model.realizePosition(self._state)
            path = self._spring.getGeometryPath()
            self._cache[key] = -1000.0 * path.computeMomentArm(self._state, self._coord)
        return self._cache[key]

    def moment_arm_mm(self, ankle_deg: ArrayLike) -> np.ndarray:
        a = np.asarray(ankle_deg, float)
        return np.array([self._one(d) for d in a.ravel()]).reshape(a.shape)


def build_opensim_model(geometry: FootShankGeometry) -> tuple[Any, Any]:
    """(opensim.Model, its PathSpring ``achilles``). OpenSim axes: X anterior, Y up, Z right;
    lengths in m. Segment masses (Winter) only matter for dynamics, which are not used here."""
    import opensim as osim

    g = geometry
    m2 = 1e-3
    model = osim.Model()
    model.setName("footdt_foot_shank")
    model.setGravity(osim.Vec3(0.0, -9.80665, 0.0))
    shank = osim.Body("shank", 3.3, osim.Vec3(0.0, 0.57 * g.shank_length_mm * m2, 0.0),
                      osim.Inertia(0.04, 0.004, 0.04))  # fmt: skip
    foot = osim.Body("foot", 1.0, osim.Vec3(0.44 * g.foot_length_mm * m2, 0.03, 0.0),
                     osim.Inertia(0.001, 0.004, 0.004))  # fmt: skip
    model.addBody(shank)
    model.addBody(foot)
    zero = osim.Vec3(0.0, 0.0, 0.0)
    ax, az = g.ankle_mm * m2
    model.addJoint(osim.WeldJoint("ground_shank", model.getGround(), zero, zero, shank, zero, zero))
    ankle = osim.PinJoint("ankle", shank, zero, zero, foot, osim.Vec3(ax, az, 0.0), zero)
    ankle.updCoordinate().setName("ankle_angle")
    model.addJoint(ankle)
    spring = osim.PathSpring("achilles", 0.3, 1.0e5, 0.0)
    path = spring.updGeometryPath()
    cx, cz = g.calf_mm * m2
    vx, vz = g.via_mm * m2
    ix, iz = g.insertion_mm * m2
    path.appendNewPathPoint("calf", shank, osim.Vec3(cx, cz, 0.0))
    path.appendNewPathPoint("calcaneus_posterior_superior", foot, osim.Vec3(vx, vz, 0.0))
    path.appendNewPathPoint("calcaneal_tuberosity", foot, osim.Vec3(ix, iz, 0.0))
    model.addForce(spring)
    model.finalizeConnections()
    return model, spring


def opensim_available() -> bool:
    try:
        import opensim  # noqa: F401
    except ImportError:
        return False
    return True


def achilles_model(geometry: FootShankGeometry, method: Method = "auto") -> AchillesModel:
    """The OpenSim model (default when importable) or, named as such, the geometric fallback."""
    if method == "geometric":
        return GeometricAchillesModel(geometry)
    try:
        return OpenSimAchillesModel(geometry)
    except ImportError as exc:
        if method == "opensim":
            raise FootdtError(
                f"Achilles force: cannot import opensim ({exc}); install it with "
                "`pip install opensim` or use method 'geometric'"
            ) from None
        warnings.warn(
            f"opensim is not installed: Achilles moment arms use the {GEOMETRIC_NAME}",
            UserWarning,
            stacklevel=2,
        )
        return GeometricAchillesModel(geometry)


@dataclass(frozen=True)
class RunnerAchilles:
    """One runner's Achilles: the base model's moment arm x ``arm_scale`` (individual tendon
    geometry; published moment arms vary by 10-15 %) and antagonist ``cocontraction``: the
    dorsiflexors' moment the triceps surae must also overcome, as a fraction of the net
    plantarflexion moment, so the tendon carries ``(1 + cocontraction) x M / arm``. Same
    ``method``, geometry and line of action as the base model."""

    base: AchillesModel
    arm_scale: float = 1.0
    cocontraction: float = 0.0

    @property
    def method(self) -> str:
        return self.base.method

    @property
    def geometry(self) -> FootShankGeometry:
        return self.base.geometry

    def moment_arm_mm(self, ankle_deg: ArrayLike) -> np.ndarray:
        return self.arm_scale * np.asarray(self.base.moment_arm_mm(ankle_deg), float)

    def line_of_action(self, ankle_deg: float) -> np.ndarray:
        return self.base.line_of_action(ankle_deg)


def tendon_force_n(model: AchillesModel, moment_nm: ArrayLike, arm_mm: ArrayLike) -> np.ndarray:
    """Tendon force (N) for a net plantarflexion moment (N m) over a moment arm (mm): 0 where
    the moment is not plantarflexing; x (1 + co-contraction) for a ``RunnerAchilles``."""
    m = np.asarray(moment_nm, float)
    extra = 1.0 + float(getattr(model, "cocontraction", 0.0))
    return np.where(m > 0.0, 1000.0 * extra * m / np.asarray(arm_mm, float), 0.0)


def plantarflexion_moment_nm(
    fx_n: ArrayLike, fz_n: ArrayLike, r_x_mm: ArrayLike, r_z_mm: ArrayLike
) -> np.ndarray:
    """Internal plantarflexion moment (N m) from GRF (N) at ``r = COP - ankle`` (mm, ground)."""
    fx, fz = np.asarray(fx_n, float), np.asarray(fz_n, float)
    return (np.asarray(r_x_mm, float) * fz - np.asarray(r_z_mm, float) * fx) / 1000.0


def achilles_force_n(
    model: AchillesModel, moment_nm: ArrayLike, ankle_deg: ArrayLike
) -> np.ndarray:
    """Tendon force (N): positive plantarflexion moment / moment arm; 0 where ``M <= 0``
    (``tendon_force_n``)."""
    m = np.asarray(moment_nm, float)
    arm = model.moment_arm_mm(np.broadcast_to(np.asarray(ankle_deg, float), m.shape))
    return tendon_force_n(model, m, arm)
