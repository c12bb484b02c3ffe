"""specs/subjects/template.yaml: its loads re-derived, equilibrium, the 28 paper targets, plausibility."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from footdt.backends import get_backend
from footdt.compile import compile_spec
from footdt.domain import PAPER_TARGETS, PLANTAR_REGIONS
from footdt.gait.typical import region_geometry, typical_phase_loads
from footdt.ir import TET_FACES, AnalysisModel
from footdt.labels import LabelStore, store_result
from footdt.results import SolveResult
from footdt.spec import SubjectSpec, load_spec
from tests.anatomy.foot_fixtures import TEMPLATE_SIZE, template_mesh
from tests.conftest import SPECS

TEMPLATE = SPECS / "subjects" / "template.yaml"
SIZE = TEMPLATE_SIZE  # 5 mm: coarse, so the suite stays fast; the plausibility bounds allow for it


@lru_cache(maxsize=1)
def _solved() -> tuple[AnalysisModel, SolveResult]:
    model = compile_spec(load_spec(TEMPLATE).with_mesh(SIZE))
    import tempfile

    return model, get_backend("sfepy").solve(model, tempfile.mkdtemp())


def _triangles(model: AnalysisModel, surface: str) -> np.ndarray:
    faces = model.surfaces[surface]
    tri = np.take_along_axis(
        model.elements[faces[:, 0], :4], np.asarray(TET_FACES)[faces[:, 1]], axis=1
    )
    return model.nodes[tri]


def test_spec_loads_match_their_derivation() -> None:
    """The numbers in template.yaml are footdt.gait.typical's on the meshed template (areas at 5 mm
    differ from the 3 mm areas they were derived on by well under 2 %)."""
    model, _ = _solved()
    spec = load_spec(TEMPLATE).spec
    assert isinstance(spec, SubjectSpec)
    areas, cx = region_geometry(model.nodes, {r: _triangles(model, r) for r in PLANTAR_REGIONS})
    ankle = template_mesh().landmarks[
        "ankle_centre"
    ]  # the same 5 mm mesh, cached for the test session
    derived = {p.phase: p for p in typical_phase_loads(areas, cx, (ankle[0], ankle[2]))}
    for phase in spec.phases:
        d = derived[phase.name]
        written = {p.surface: p.value for p in phase.pressures}
        assert written.keys() == d.pressures_mpa.keys()
        for region, value in written.items():
            assert value == pytest.approx(d.pressures_mpa[region], rel=0.02), (phase.name, region)
        forces = [f.total for f in phase.forces]
        if d.achilles_n == 0:
            assert forces == []
        else:
            assert np.allclose(forces[0], d.achilles_force, rtol=0.05, atol=20.0), phase.name


def test_equilibrium_at_the_proximal_cut() -> None:
    """Reaction at the fixed cut + applied pressure resultant + Achilles force = 0 (<= 0.1 %)."""
    model, result = _solved()
    for phase in model.phases:
        applied = np.zeros(3)
        for p in phase.pressures:
            t = _triangles(model, p.surface)
            inward = (
                np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]) / 2.0
            )  # TET_FACES normals point in
            applied += p.value * inward.sum(axis=0)
        for load in phase.nodal_loads:
            applied += load.forces.sum(axis=0)
        reaction = result.phases[phase.name].reaction
        assert reaction is not None
        assert np.linalg.norm(reaction + applied) <= 1e-3 * np.linalg.norm(applied), phase.name


def test_paper_targets_and_plausible_magnitudes(tmp_path) -> None:
    model, result = _solved()
    rows = store_result(str(tmp_path / "labels.db"), result, model)
    with LabelStore(tmp_path / "labels.db") as store:
        for phase, bone, kind in PAPER_TARGETS:
            stat = "mean" if kind == "mean" else "p99"
            assert store.exists(subject="template", phase=phase, bone=bone, stat=stat)
    value = {(r.phase, r.bone, r.stat): r.value_mpa for r in rows}
    mets = [f"metatarsal_{i}" for i in range(1, 6)]
    # REFERENCE.md: mean ~5-15 MPa and peaks of tens of MPa in the metatarsals at mid-stance
    assert 2.0 < max(value[("mid_stance", m, "mean")] for m in mets) < 30.0
    assert 10.0 < max(value[("mid_stance", m, "p99")] for m in mets) < 120.0
    # hindfoot at initial contact (no Achilles) well below the metatarsals at mid-stance
    assert value[("initial_contact", "calcaneus", "mean")] < min(
        value[("mid_stance", m, "mean")] for m in mets
    )
    assert all(r.residual is not None and r.residual < 1e-8 for r in rows)
