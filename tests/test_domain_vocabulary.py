"""``footdt.domain`` owns the vocabulary: no other module spells a bone, phase, statistic, plantar
region or zone, surface, strike class, sensor, channel, landmark or target (short) name (issue 13),
and the types round-trip."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import get_args

import pytest

from footdt import domain

PACKAGE = Path(domain.__file__).resolve().parent

#: Every name the vocabulary owns; a string constant equal to one of them elsewhere is a second
#: definition.
NAMES: frozenset[str] = frozenset(
    (
        *domain.BONES,
        *domain.PHASES,
        *domain.STATS,
        *domain.PLANTAR_REGIONS,
        *domain.STRIKE_CLASSES,
        *domain.STRIKE_GROUPS,
        *domain.SENSORS,
        *domain.CHANNELS,
        *domain.CHANNEL_AXES,
        *domain.FOOT_LANDMARKS,
        *domain.SHAPE_LANDMARKS,
        *domain.FOOT_SURFACES,
        *domain.PLANTAR_ZONES,
        domain.SOFT_TISSUE,
        domain.PEAK,
        *domain.PHASE_SHORT.values(),
        *domain.BONE_SHORT.values(),
    )
)

#: (module, word) pairs where a word that is also a domain name means something else. Each entry
#: says what; an entry that no longer matches anything fails (``test_allowed_entries_are_used``).
ALLOWED: dict[tuple[str, str], str] = {
    ("anatomy/opensim_reference.py", "toes"): "the OpenSim body 'toes' of the gait2392 model",
    ("anatomy/opensim_reference.py", "tibia"): "the OpenSim body 'tibia' of the gait2392 model",
    ("anatomy/opensim_reference.py", "talus"): "the OpenSim body 'talus' of the gait2392 model",
    ("shape/ssm.py", "mean"): "the shape model's mean shape (an .npz key and attribute)",
    ("shape/measurements.py", "mean"): "summary of a measurement over a population",
    ("shape/measurements.py", "max"): "summary of a measurement over a population",
    ("cli/shape.py", "mean"): "column of the population-measurement table",
    ("cli/shape.py", "max"): "column of the population-measurement table",
    ("mesh/primitives.py", "max"): "the max side of a box along an axis",
    ("mesh/structured.py", "max"): "the max side of a box along an axis",
    ("labels/export.py", "max"): "a pandas aggregation (the longest wall time)",
    ("evaluate/figures.py", "mean"): "the 'mean' baseline, and a pandas aggregation",
    ("learn/baselines.py", "mean"): "the 'mean' baseline (a predictor's name)",
    ("learn/cv.py", "mean"): "the 'mean' baseline (a predictor's name)",
    ("learn/leakage.py", "mean"): "the 'mean' baseline (a predictor's name)",
    ("cli/learn.py", "mean"): "the 'mean' baseline (a predictor's name)",
    ("demo/page.py", "mean"): "the 'mean' baseline (a predictor's name)",
    ("demo/page.py", "max"): "a table column (largest value over trials)",
    ("demo/run.py", "mean"): "the 'mean' baseline (a predictor's name)",
    ("evaluate/report.py", "mean"): "the 'mean' baseline (a predictor's name)",
    ("gait/achilles.py", "foot"): "the OpenSim body 'foot' of the foot-shank model",
}


def _docstrings(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _hits() -> list[tuple[str, int, str]]:
    """(module relative to footdt/, line, word) of every domain name spelled outside domain.py."""
    out: list[tuple[str, int, str]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "domain.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in NAMES
                and id(node) not in docs
            ):
                out.append((rel, node.lineno, node.value))
    return out


def test_no_module_spells_a_domain_name() -> None:
    bad = sorted(h for h in _hits() if (h[0], h[2]) not in ALLOWED)
    assert not bad, (
        "domain names spelled outside footdt/domain.py (import them instead):\n"
        + "\n".join(f"footdt/{rel}:{line}: {word!r}" for rel, line, word in bad)
    )


def test_allowed_entries_are_used() -> None:
    used = {(rel, word) for rel, _, word in _hits()}
    assert not set(ALLOWED) - used, f"stale ALLOWED entries: {sorted(set(ALLOWED) - used)}"


def test_the_scan_sees_a_definition() -> None:
    """The scanner itself: a tuple of phase names is found, a docstring naming them is not."""
    code = '"""initial_contact"""\nPH = ("initial_contact", "push_off")\n'
    tree = ast.parse(code)
    docs = _docstrings(tree)
    found = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and n.value in NAMES and id(n) not in docs
    ]
    assert found == ["initial_contact", "push_off"]


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        (domain.Bone, domain.BONES),
        (domain.Phase, domain.PHASES),
        (domain.Stat, domain.STATS),
        (domain.PeakStat, domain.PEAK_STATS),
        (domain.TargetKind, domain.TARGET_KINDS),
        (domain.PlantarRegion, domain.PLANTAR_REGIONS),
        (domain.Sensor, domain.SENSORS),
        (domain.ChannelAxis, domain.CHANNEL_AXES),
        (domain.StrikeClass, domain.STRIKE_CLASSES),
        (domain.StrikeGroup, domain.STRIKE_GROUPS),
    ],
)
def test_types_and_tuples_agree(kind: object, names: tuple[str, ...]) -> None:
    assert get_args(kind) == names
    assert len(set(names)) == len(names)
    assert all(isinstance(n, str) and n == n.strip() and "." not in n for n in names)


def test_vocabulary_relations() -> None:
    assert set(domain.PEAK_STATS) < set(domain.STATS)
    assert set(domain.TARGET_KINDS) == {*domain.STATS, domain.PEAK}
    assert domain.DEFAULT_PEAK_STAT in domain.PEAK_STATS
    assert set(domain.STAT_QUANTILES) == set(domain.STATS) - {domain.MEAN, domain.MAX}
    assert tuple(f"metatarsal_{i}" for i in range(1, 6)) == domain.METATARSALS
    assert set(domain.LEG_BONES) < set(domain.BONES)
    assert set(domain.STRIKE_CLASSES) < set(domain.PLANTAR_REGIONS)
    assert tuple(f"{s}_a{a}" for s in domain.SENSORS for a in "xyz") == domain.CHANNELS
    assert tuple(f"a{a}" for a in domain.AXES) == domain.CHANNEL_AXES
    assert domain.SOFT_TISSUE not in domain.BONES
    for m in domain.METATARSALS:
        assert f"{m}_head" in domain.FOOT_LANDMARKS


def test_every_name_has_its_constant() -> None:
    """Each bone, phase, statistic and region has a constant of its own name (``domain.TALUS``)."""
    for name in (*domain.BONES, *domain.PHASES, *domain.STATS, *domain.PLANTAR_REGIONS):
        assert getattr(domain, name.upper()) == name
    assert (domain.FOOT_SENSOR, domain.TIBIA_SENSOR) == domain.SENSORS
    assert (domain.REARFOOT_STRIKE, domain.MIDFOOT_STRIKE, domain.FOREFOOT_STRIKE) == (
        domain.STRIKE_CLASSES
    )
    assert (domain.REARFOOT_STRIKE, domain.NON_REARFOOT) == domain.STRIKE_GROUPS


def test_tables_keyed_by_bone_cover_the_bones() -> None:
    """Data keyed by bone (built with the domain constants) name every bone, and only bones."""
    from footdt.anatomy.opensim_reference import OPENSIM_FILES
    from footdt.anatomy.template import PRIORITY
    from footdt.anatomy.template_data import BONE_PRIMITIVES

    for table in (BONE_PRIMITIVES, PRIORITY, OPENSIM_FILES):
        assert sorted(table) == sorted(domain.BONES)


def test_landmark_tables_are_the_domain_landmarks() -> None:
    from footdt.shape.population import LANDMARK_DEFS, LANDMARKS

    assert tuple(LANDMARK_DEFS) == LANDMARKS == domain.SHAPE_LANDMARKS
    assert {bone for bone, _, _ in LANDMARK_DEFS.values()} <= set(domain.BONES)
    assert len(set(domain.FOOT_LANDMARKS)) == len(domain.FOOT_LANDMARKS)


def test_every_target_name_parses_back() -> None:
    names = [
        domain.target_name(p, b, k)
        for p in domain.PHASES
        for b in (*domain.BONES, domain.SOFT_TISSUE)
        for k in domain.TARGET_KINDS
    ]
    for name in names:
        t = domain.parse_target(name)
        assert domain.target_name(*t) == name
    for name, (phase, bone, kind) in zip(
        domain.PAPER_TARGET_NAMES, domain.PAPER_TARGETS, strict=True
    ):
        assert domain.parse_target(name) == (phase, bone, kind)
    assert len(set(domain.PAPER_TARGET_NAMES)) == 28


@pytest.mark.parametrize(
    "bad",
    [
        "mid_stance.metatarsal_2",
        "heel_strike.talus.mean",
        "mid_stance.femur.mean",
        "push_off.talus.p50",
    ],
)
def test_parse_target_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="target"):
        domain.parse_target(bad)


def test_short_names_are_distinct_and_readable() -> None:
    shorts = [domain.short_target(n) for n in domain.PAPER_TARGET_NAMES]
    assert len(set(shorts)) == len(shorts)
    assert domain.short_target("mid_stance.metatarsal_2.peak") == "MS M2 peak"
    assert domain.short_target("initial_contact.calcaneus.mean") == "IC Calc mean"
    assert set(domain.PHASE_SHORT) == set(domain.PHASES)
    assert set(domain.BONE_SHORT) <= set(domain.BONES)


def test_names_serialise_as_plain_strings() -> None:
    """The names are plain ``str``: JSON, YAML and dataframes see the same text as before."""
    assert json.loads(json.dumps(list(domain.BONES))) == list(domain.BONES)
    assert all(type(n) is str for n in (*domain.BONES, *domain.PHASES, *domain.SENSORS))


def test_domain_imports_nothing_heavy() -> None:
    tree = ast.parse((PACKAGE / "domain.py").read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    mods = {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
    mods |= {n.module for n in top if isinstance(n, ast.ImportFrom) and n.module}
    assert mods <= {"__future__", "typing"}, mods
