"""Phase loads of a typical runner on a meshed foot: the derivation behind specs/subjects/template.yaml.

A 68 kg rearfoot striker at ~3 m/s (REFERENCE.md: vertical GRF impact peak ~1.5-2 BW, active peak
~2.5 BW; stance ~0.25 s). For each phase we fix, at one representative instant, the vertical and
antero-posterior GRF (in body weights), how the vertical force is shared between the four plantar
regions, and the ankle angle. Then:

* pressure of a region = share x vertical GRF / region area (MPa), uniform over the region, as the
  paper applied Footscan pressures;
* centre of pressure x = area-share-weighted mean of the region centroids;
* ankle plantarflexion moment ``M = r_x F_z - r_z F_x`` about the template's ankle centre, and the
  Achilles force = M / moment arm of the OpenSim foot-shank model (``footdt.gait.achilles``) at the
  phase's ankle angle, acting along that model's tendon line; zero when M is dorsiflexing.

Shear forces from the ground are not applied (a pressure plate measures only normal pressure);
the FE model is held at the proximal cut, which carries the resultant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from footdt.domain import (
    FOREFOOT,
    INITIAL_CONTACT,
    MID_STANCE,
    MIDFOOT,
    PLANTAR_REGIONS,
    PUSH_OFF,
    REARFOOT,
    TOES,
)
from footdt.gait.achilles import (
    FootShankGeometry,
    achilles_force_n,
    achilles_model,
    plantarflexion_moment_nm,
)

G = 9.81


@dataclass(frozen=True)
class PhaseInstant:
    """Ground reaction and ankle angle at a phase's representative instant."""

    grf_vertical_bw: float
    grf_ap_bw: float  # + propulsive (anterior), - braking
    ankle_deg: float  # dorsiflexion positive
    shares: dict[str, float]  # fraction of the vertical GRF per plantar region (sums to 1)


#: A rearfoot striker at ~3 m/s: impact peak (12 % of stance), active peak (~45 %), push-off (~80 %).
TYPICAL_RFS: dict[str, PhaseInstant] = {
    INITIAL_CONTACT: PhaseInstant(1.6, -0.20, 5.0, {REARFOOT: 0.90, MIDFOOT: 0.10}),
    MID_STANCE: PhaseInstant(
        2.5, 0.0, 15.0, {REARFOOT: 0.15, MIDFOOT: 0.10, FOREFOOT: 0.60, TOES: 0.15}
    ),
    PUSH_OFF: PhaseInstant(1.6, 0.25, -5.0, {MIDFOOT: 0.05, FOREFOOT: 0.65, TOES: 0.30}),
}


@dataclass(frozen=True)
class PhaseLoads:
    phase: str
    pressures_mpa: dict[str, float]
    cop_x_mm: float
    ankle_moment_nm: float
    moment_arm_mm: float
    achilles_n: float
    achilles_force: tuple[float, float, float]  # N, foot frame


def typical_phase_loads(
    region_area_mm2: dict[str, float],
    region_centroid_x_mm: dict[str, float],
    ankle_xz_mm: tuple[float, float],
    foot_length_mm: float = 265.0,
    body_mass_kg: float = 68.0,
    instants: dict[str, PhaseInstant] | None = None,
) -> list[PhaseLoads]:
    bw = body_mass_kg * G
    model = achilles_model(FootShankGeometry(foot_length_mm=foot_length_mm))
    out = []
    for phase, inst in (instants or TYPICAL_RFS).items():
        assert abs(sum(inst.shares.values()) - 1.0) < 1e-9, phase
        fz = inst.grf_vertical_bw * bw
        pressures = {
            r: s * fz / region_area_mm2[r] for r, s in inst.shares.items() if r in PLANTAR_REGIONS
        }
        cop = sum(s * region_centroid_x_mm[r] for r, s in inst.shares.items())
        moment = float(
            plantarflexion_moment_nm(inst.grf_ap_bw * bw, fz, cop - ankle_xz_mm[0], -ankle_xz_mm[1])
        )
        force = float(achilles_force_n(model, moment, inst.ankle_deg))
        arm = float(model.moment_arm_mm(inst.ankle_deg))
        direction = model.line_of_action(inst.ankle_deg)
        vec = tuple(float(v) for v in force * direction)
        out.append(PhaseLoads(phase, pressures, cop, moment, arm, force, vec))  # type: ignore[arg-type]
    return out


def region_geometry(
    nodes: np.ndarray, faces_xyz: dict[str, np.ndarray]
) -> tuple[dict[str, float], dict[str, float]]:
    """Areas (mm^2) and area-weighted centroid x (mm) of surfaces given as (K, 3, 3) triangle corners."""
    del nodes
    areas, cx = {}, {}
    for name, p in faces_xyz.items():
        a = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
        areas[name] = float(a.sum())
        cx[name] = float((a * p[:, :, 0].mean(axis=1)).sum() / a.sum())
    return areas, cx
