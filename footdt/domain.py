"""The one definition of the domain's names: bones, parts, phases, statistics, targets, units.

Every other module imports these; nothing else spells a bone or phase name.
"""

from __future__ import annotations

from typing import Any, Final

#: Units inside every FE model, deck and result (DESIGN.md "Conventions").
FE_UNITS: Final[dict[str, str]] = {
    "length": "mm",
    "force": "N",
    "stress": "MPa",
    "time": "s",
    "mass": "tonne",
}

METATARSALS: Final[tuple[str, ...]] = tuple(f"metatarsal_{i}" for i in range(1, 6))
BONES: Final[tuple[str, ...]] = (
    *METATARSALS,
    "calcaneus",
    "talus",
    "navicular",
    "cuboid",
    "cuneiform_medial",
    "cuneiform_intermediate",
    "cuneiform_lateral",
    "phalanges",
    "tibia",
    "fibula",
)
SOFT_TISSUE: Final[str] = "soft_tissue"

PHASES: Final[tuple[str, ...]] = ("initial_contact", "mid_stance", "push_off")

#: Statistics a label row can hold (labels/reduce.py is their one definition).
STATS: Final[tuple[str, ...]] = ("mean", "p95", "p99", "max")

#: Which stored statistic is the ML "peak" unless a spec says otherwise.
DEFAULT_PEAK_STAT: Final = "p99"

#: The paper's 28 targets as (phase, bone, kind) with kind "mean" or "peak".
_PAPER_BONES_BY_PHASE: Final[dict[str, tuple[str, ...]]] = {
    "initial_contact": ("calcaneus", "talus"),
    "mid_stance": (*METATARSALS, "calcaneus", "talus"),
    "push_off": METATARSALS,
}
PAPER_TARGETS: Final[tuple[tuple[str, str, str], ...]] = tuple(
    (phase, bone, kind)
    for kind in ("mean", "peak")
    for phase, bones in _PAPER_BONES_BY_PHASE.items()
    for bone in bones
)


def target_name(phase: str, bone: str, kind: str) -> str:
    """Target names are ``phase.bone.stat`` (DESIGN.md)."""
    return f"{phase}.{bone}.{kind}"


PAPER_TARGET_NAMES: Final[tuple[str, ...]] = tuple(target_name(*t) for t in PAPER_TARGETS)

assert len(PAPER_TARGETS) == 28

# --- foot model: named plantar regions, surfaces and landmarks (footdt.anatomy.landmarks) ---

#: The paper's four plantar-pressure regions, heel to toes.
PLANTAR_REGIONS: Final[tuple[str, ...]] = ("rearfoot", "midfoot", "forefoot", "toes")
#: Where the regions meet: straight lines across the sole, each given by its position as a
#: fraction of foot length from the heel at the (medial, lateral) border of the plantar contact.
#: The forefoot follows the metatarsal-head line (M1 head ~0.70 L, M5 head ~0.57 L) like an
#: anatomical Footscan mask; the mean positions (0.30, 0.54, 0.74) are close to the traditional
#: percentage mask (heel 0-30 %, forefoot 51-81 %). The FE surfaces (``anatomy.landmarks``), the
#: plate masks (``gait.pressure.footprint_masks``) and the synthetic pressures (``cohort.stance``)
#: all split the sole with ``plantar_region``.
PLANTAR_REGION_CUTS: Final[tuple[tuple[float, float], ...]] = (
    (0.30, 0.30),
    (0.60, 0.47),
    (0.80, 0.68),
)


def plantar_region(along: Any, medial: Any) -> Any:
    """Index into ``PLANTAR_REGIONS`` (0 rearfoot .. 3 toes) of sole points.

    ``along``: position as a fraction of foot length from the heel (0 = heel, 1 = toe tip);
    ``medial``: position across the plantar contact, 0 at its lateral border, 1 at its medial one
    (clipped to [0, 1]). A point on a cut belongs to the region in front of it."""
    import numpy as np

    u = np.asarray(along, dtype=float)
    w = np.clip(np.asarray(medial, dtype=float), 0.0, 1.0)
    return sum((u >= lat + (med - lat) * w).astype(int) for med, lat in PLANTAR_REGION_CUTS)


#: Footscan-like finer plantar zones (each inside one region; ``midfoot`` is both).
PLANTAR_ZONES: Final[tuple[str, ...]] = (
    "medial_heel",
    "lateral_heel",
    "midfoot",
    *(f"m{i}_head" for i in range(1, 6)),
    "hallux",
    "toes_2_5",
)
#: Other named surfaces of a foot model.
FOOT_SURFACES: Final[tuple[str, ...]] = ("plantar", "skin", "proximal_cut", "achilles_insertion")
#: Named landmarks of a foot model (points in mm, on the bones or the skin).
FOOT_LANDMARKS: Final[tuple[str, ...]] = (
    "calcaneus_medial_process",
    "calcaneus_lateral_process",
    *(f"{m}_head" for m in METATARSALS),
    "achilles_insertion_centre",
    "medial_malleolus",
    "lateral_malleolus",
    "ankle_centre",
    "navicular_tuberosity",
    "heel_posterior",
    "toe_tip",
)
