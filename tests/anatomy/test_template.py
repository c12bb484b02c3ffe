"""The parametric template: design tables, scaling, arch lift, bone shapes in the mesh."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.anatomy.template import (
    PRIORITY,
    REF_ARCH,
    arch_weight,
    build_template,
    primitive_surface_points,
    slice_outline,
)
from footdt.anatomy.template_data import BONE_PRIMITIVES, Ellipsoid
from footdt.anatomy.trimesh_checks import open_edges, self_intersections
from footdt.domain import BONES
from footdt.errors import MeshError
from footdt.ir import TET_FACES
from footdt.mesh.faces import boundary_faces
from footdt.spec.geometry import FootTemplate
from tests.anatomy.foot_fixtures import template_mesh


def _skin_points(params: FootTemplate) -> np.ndarray:
    geo = build_template(params)
    return geo.to_mm(np.vstack([slice_outline(s) for s in geo.slices]))


def test_every_bone_has_a_design_and_a_carving_rank() -> None:
    assert set(BONE_PRIMITIVES) == set(BONES) == set(PRIORITY)


def test_template_scales_with_foot_length_and_width() -> None:
    base = _skin_points(FootTemplate(type="foot_template"))
    big = _skin_points(
        FootTemplate(type="foot_template", foot_length=530, foot_width=200, arch_height=80)
    )
    assert np.ptp(big[:, 0]) == pytest.approx(2 * np.ptp(base[:, 0]))
    assert np.ptp(big[:, 1]) == pytest.approx(2 * np.ptp(base[:, 1]))
    wide = _skin_points(FootTemplate(type="foot_template", foot_width=110))
    assert np.ptp(wide[:, 1]) == pytest.approx(1.1 * np.ptp(base[:, 1]))
    assert np.ptp(wide[:, 0]) == pytest.approx(np.ptp(base[:, 0]))


def test_arch_height_lifts_the_midfoot_only() -> None:
    flat = build_template(FootTemplate(type="foot_template", arch_height=34))
    high = build_template(FootTemplate(type="foot_template", arch_height=46))
    nav_flat, nav_high = flat.bones["navicular"][0], high.bones["navicular"][0]
    assert isinstance(nav_flat, Ellipsoid) and isinstance(nav_high, Ellipsoid)
    assert nav_high.centre[2] - nav_flat.centre[2] == pytest.approx(12.0)
    assert high.bones["calcaneus"] == flat.bones["calcaneus"]
    head_flat, head_high = flat.bones["metatarsal_2"][-1], high.bones["metatarsal_2"][-1]
    assert head_flat == head_high  # the metatarsal heads stay on the ground
    assert arch_weight(100.0, 24.0) == 1.0 and arch_weight(40.0, 0.0) == 0.0


def test_arch_height_out_of_range_is_refused_with_the_range() -> None:
    with pytest.raises(MeshError, match=r"arch_height 90 mm .* use \d+-\d+ mm"):
        build_template(FootTemplate(type="foot_template", arch_height=90))


def test_navicular_tuberosity_is_at_the_arch_height_by_design() -> None:
    nav = build_template().bones["navicular"]
    medial = max((primitive_surface_points(p, 96) for p in nav), key=lambda q: q[:, 1].max())
    assert medial[np.argmax(medial[:, 1]), 2] == pytest.approx(REF_ARCH, abs=0.1)


def test_meshed_bones_are_closed_and_do_not_intersect() -> None:
    mesh = template_mesh()
    for bone in BONES:
        el = mesh.elements[mesh.parts[bone], :4]
        faces = boundary_faces(el)
        tri = np.take_along_axis(el[faces[:, 0]], np.asarray(TET_FACES)[faces[:, 1]], axis=1)
        assert len(open_edges(tri)) == 0, bone
        assert len(self_intersections(mesh.nodes, tri)) == 0, bone
    owners = np.zeros(len(mesh.nodes), dtype=int)
    for bone in BONES:
        owners[np.unique(mesh.elements[mesh.parts[bone]])] += 1
    assert owners.max() == 1  # no node is shared by two bones: joint spaces everywhere


def test_meshed_navicular_height_matches_the_parameter() -> None:
    assert template_mesh().landmarks["navicular_tuberosity"][2] == pytest.approx(40.0, abs=1.5)
