"""The one definition of the domain's names: bones, parts, phases, statistics, targets and their
short names, sensors and channels, strike classes, plantar regions with their geometry, surfaces,
landmarks and units.

Each vocabulary is a ``Literal`` type, the tuple of its names (``get_args`` of the type) and a
constant per name. Every other module imports these; nothing else spells one of these names
(``tests/test_domain_vocabulary.py`` checks). The names are plain ``str``: files, tables and
hashes hold the same text as before. Importing this module imports nothing but ``typing``.
"""

from __future__ import annotations

from typing import Any, Final, Literal, NamedTuple, get_args

#: Units inside every FE model, deck and result (DESIGN.md "Conventions").
FE_UNITS: Final[dict[str, str]] = {
    "length": "mm",
    "force": "N",
    "stress": "MPa",
    "time": "s",
    "mass": "tonne",
}

#: The bones footdt models, each spelled here only: every other module takes its bone names from
#: ``Bone``/``BONES`` or the constants below.
Bone = Literal[
    "metatarsal_1",
    "metatarsal_2",
    "metatarsal_3",
    "metatarsal_4",
    "metatarsal_5",
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
]
BONES: Final[tuple[str, ...]] = get_args(Bone)
METATARSALS: Final[tuple[str, ...]] = BONES[:5]
METATARSAL_1: Final = "metatarsal_1"
METATARSAL_2: Final = "metatarsal_2"
METATARSAL_3: Final = "metatarsal_3"
METATARSAL_4: Final = "metatarsal_4"
METATARSAL_5: Final = "metatarsal_5"
CALCANEUS: Final = "calcaneus"
TALUS: Final = "talus"
NAVICULAR: Final = "navicular"
CUBOID: Final = "cuboid"
CUNEIFORM_MEDIAL: Final = "cuneiform_medial"
CUNEIFORM_INTERMEDIATE: Final = "cuneiform_intermediate"
CUNEIFORM_LATERAL: Final = "cuneiform_lateral"
PHALANGES: Final = "phalanges"
TIBIA: Final = "tibia"
FIBULA: Final = "fibula"
#: The leg bones (cut proximally, carrying the ankle).
LEG_BONES: Final[tuple[str, ...]] = (TIBIA, FIBULA)
SOFT_TISSUE: Final[str] = "soft_tissue"

#: The stance phases a trial is loaded at, in time order.
Phase = Literal["initial_contact", "mid_stance", "push_off"]
PHASES: Final[tuple[str, ...]] = get_args(Phase)
INITIAL_CONTACT: Final = "initial_contact"
MID_STANCE: Final = "mid_stance"
PUSH_OFF: Final = "push_off"

#: Statistics a label row can hold over a part's elements (``labels.reduce`` computes them).
Stat = Literal["mean", "p95", "p99", "max"]
STATS: Final[tuple[str, ...]] = get_args(Stat)
MEAN: Final = "mean"
P95: Final = "p95"
P99: Final = "p99"
MAX: Final = "max"
#: The statistics a "peak" target may read.
PeakStat = Literal["p95", "p99", "max"]
PEAK_STATS: Final[tuple[str, ...]] = get_args(PeakStat)
#: The quantile each percentile statistic stands for.
STAT_QUANTILES: Final[dict[str, float]] = {P95: 0.95, P99: 0.99}

#: Which stored statistic is the ML "peak" unless a spec says otherwise.
DEFAULT_PEAK_STAT: Final = "p99"

#: The last field of a target name: a statistic, or "peak" (the experiment's ``peak_stat``).
TargetKind = Literal["mean", "p95", "p99", "max", "peak"]
TARGET_KINDS: Final[tuple[str, ...]] = get_args(TargetKind)
PEAK: Final = "peak"

#: The paper's 28 targets as (phase, bone, kind) with kind "mean" or "peak".
_PAPER_BONES_BY_PHASE: Final[dict[str, tuple[str, ...]]] = {
    INITIAL_CONTACT: (CALCANEUS, TALUS),
    MID_STANCE: (*METATARSALS, CALCANEUS, TALUS),
    PUSH_OFF: METATARSALS,
}
PAPER_TARGETS: Final[tuple[tuple[str, str, str], ...]] = tuple(
    (phase, bone, kind)
    for kind in (MEAN, PEAK)
    for phase, bones in _PAPER_BONES_BY_PHASE.items()
    for bone in bones
)


def target_name(phase: str, bone: str, kind: str) -> str:
    """Target names are ``phase.bone.stat`` (DESIGN.md)."""
    return f"{phase}.{bone}.{kind}"


class Target(NamedTuple):
    """A target name's three fields: ``phase.part.kind``."""

    phase: str
    part: str
    kind: str


def parse_target(name: str) -> Target:
    """``phase.part.kind`` -> its fields; ValueError if it is not one footdt can label."""
    parts = name.split(".")
    if len(parts) != 3:
        raise ValueError(f"target {name!r} is not 'phase.bone.stat'")
    phase, part, kind = parts
    if phase not in PHASES:
        raise ValueError(
            f"target {name!r}: unknown phase {phase!r}; use one of {', '.join(PHASES)}"
        )
    if part not in (*BONES, SOFT_TISSUE):
        raise ValueError(f"target {name!r}: unknown part {part!r}; bones: {', '.join(BONES)}")
    if kind not in TARGET_KINDS:
        raise ValueError(
            f"target {name!r}: unknown stat {kind!r}; use one of {', '.join(TARGET_KINDS)}"
        )
    return Target(phase, part, kind)


PAPER_TARGET_NAMES: Final[tuple[str, ...]] = tuple(target_name(*t) for t in PAPER_TARGETS)

assert len(PAPER_TARGETS) == 28

#: Short names for plots and tables: ``mid_stance.metatarsal_2.peak`` -> ``MS M2 peak``.
PHASE_SHORT: Final[dict[str, str]] = {INITIAL_CONTACT: "IC", MID_STANCE: "MS", PUSH_OFF: "PO"}
BONE_SHORT: Final[dict[str, str]] = {
    **{m: f"M{i}" for i, m in enumerate(METATARSALS, start=1)},
    CALCANEUS: "Calc",
    TALUS: "Tal",
}


def short_target(name: str) -> str:
    """``mid_stance.metatarsal_2.peak`` -> ``MS M2 peak`` (names footdt does not know pass through)."""
    phase, part, kind = name.split(".")
    return f"{PHASE_SHORT.get(phase, phase)} {BONE_SHORT.get(part, part)} {kind}"


# --- wearable sensors (footdt.gait.recording) ---

#: The paper's two accelerometers: foot dorsum and distal anteromedial tibia, in channel order.
Sensor = Literal["foot", "tibia"]
SENSORS: Final[tuple[str, ...]] = get_args(Sensor)
FOOT_SENSOR: Final = "foot"
TIBIA_SENSOR: Final = "tibia"
AXES: Final[tuple[str, ...]] = ("x", "y", "z")
#: A sensor's acceleration channels along its axes (an experiment's ``inputs.channels``).
ChannelAxis = Literal["ax", "ay", "az"]
CHANNEL_AXES: Final[tuple[str, ...]] = get_args(ChannelAxis)
#: Window channels: foot ax, ay, az, tibia ax, ay, az.
CHANNELS: Final[tuple[str, ...]] = tuple(f"{s}_{c}" for s in SENSORS for c in CHANNEL_AXES)

# --- foot strike (footdt.gait.strike) ---

#: Strike classes by strike index (the same words as the plantar regions: where the COP starts).
StrikeClass = Literal["rearfoot", "midfoot", "forefoot"]
STRIKE_CLASSES: Final[tuple[str, ...]] = get_args(StrikeClass)
REARFOOT_STRIKE: Final = "rearfoot"
MIDFOOT_STRIKE: Final = "midfoot"
FOREFOOT_STRIKE: Final = "forefoot"
#: The paper's two groups: rearfoot or non-rearfoot.
StrikeGroup = Literal["rearfoot", "non_rearfoot"]
STRIKE_GROUPS: Final[tuple[str, ...]] = get_args(StrikeGroup)
NON_REARFOOT: Final = "non_rearfoot"

# --- foot model: named plantar regions, surfaces and landmarks (footdt.anatomy.landmarks) ---

#: The paper's four plantar-pressure regions, heel to toes.
PlantarRegion = Literal["rearfoot", "midfoot", "forefoot", "toes"]
PLANTAR_REGIONS: Final[tuple[str, ...]] = get_args(PlantarRegion)
REARFOOT: Final = "rearfoot"
MIDFOOT: Final = "midfoot"
FOREFOOT: Final = "forefoot"
TOES: Final = "toes"
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
MEDIAL_HEEL: Final = "medial_heel"
LATERAL_HEEL: Final = "lateral_heel"
#: The forefoot split by the nearest metatarsal head: m1_head .. m5_head.
METATARSAL_HEAD_ZONES: Final[tuple[str, ...]] = tuple(f"m{i}_head" for i in range(1, 6))
HALLUX: Final = "hallux"
TOES_2_5: Final = "toes_2_5"
PLANTAR_ZONES: Final[tuple[str, ...]] = (
    MEDIAL_HEEL,
    LATERAL_HEEL,
    MIDFOOT,
    *METATARSAL_HEAD_ZONES,
    HALLUX,
    TOES_2_5,
)
#: Other named surfaces of a foot model.
PLANTAR: Final = "plantar"
SKIN: Final = "skin"
PROXIMAL_CUT: Final = "proximal_cut"
ACHILLES_INSERTION: Final = "achilles_insertion"
FOOT_SURFACES: Final[tuple[str, ...]] = (PLANTAR, SKIN, PROXIMAL_CUT, ACHILLES_INSERTION)
#: Named landmarks of a foot model (points in mm, on the bones or the skin; ``anatomy.landmarks``).
CALCANEUS_MEDIAL_PROCESS: Final = "calcaneus_medial_process"
CALCANEUS_LATERAL_PROCESS: Final = "calcaneus_lateral_process"
METATARSAL_HEADS: Final[tuple[str, ...]] = tuple(f"{m}_head" for m in METATARSALS)
ACHILLES_INSERTION_CENTRE: Final = "achilles_insertion_centre"
MEDIAL_MALLEOLUS: Final = "medial_malleolus"
LATERAL_MALLEOLUS: Final = "lateral_malleolus"
ANKLE_CENTRE: Final = "ankle_centre"
NAVICULAR_TUBEROSITY: Final = "navicular_tuberosity"
HEEL_POSTERIOR: Final = "heel_posterior"
TOE_TIP: Final = "toe_tip"
FOOT_LANDMARKS: Final[tuple[str, ...]] = (
    CALCANEUS_MEDIAL_PROCESS,
    CALCANEUS_LATERAL_PROCESS,
    *METATARSAL_HEADS,
    ACHILLES_INSERTION_CENTRE,
    MEDIAL_MALLEOLUS,
    LATERAL_MALLEOLUS,
    ANKLE_CENTRE,
    NAVICULAR_TUBEROSITY,
    HEEL_POSTERIOR,
    TOE_TIP,
)
#: Landmarks of a template's design (``shape.population``): the points the shape model and the
#: foot measurements (``shape.measure``) are placed by.
MEDIAL_MALLEOLUS_TIP: Final = "medial_malleolus_tip"
LATERAL_MALLEOLUS_TIP: Final = "lateral_malleolus_tip"
METATARSAL_1_HEAD_CENTRE: Final = "metatarsal_1_head_centre"
METATARSAL_5_HEAD_CENTRE: Final = "metatarsal_5_head_centre"
CALCANEUS_POSTERIOR_TUBEROSITY: Final = "calcaneus_posterior_tuberosity"
TALUS_HEAD_CENTRE: Final = "talus_head_centre"
SHAPE_LANDMARKS: Final[tuple[str, ...]] = (
    NAVICULAR_TUBEROSITY,
    MEDIAL_MALLEOLUS_TIP,
    LATERAL_MALLEOLUS_TIP,
    METATARSAL_1_HEAD_CENTRE,
    METATARSAL_5_HEAD_CENTRE,
    CALCANEUS_POSTERIOR_TUBEROSITY,
    TALUS_HEAD_CENTRE,
)
