"""The meshed foot template: parts, conforming interfaces, named surfaces and landmarks."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.anatomy.landmarks import bone_surface_nodes
from footdt.anatomy.template import build_template, slice_outline
from footdt.domain import (
    BONES,
    FOOT_LANDMARKS,
    FOOT_SURFACES,
    METATARSALS,
    PLANTAR_REGIONS,
    PLANTAR_ZONES,
    SOFT_TISSUE,
)
from footdt.errors import MeshError
from footdt.mesh.faces import boundary_faces, interface_faces
from footdt.mesh.foot import mesh_foot
from footdt.mesh.topology import face_centroids_normals
from footdt.spec.geometry import FootTemplate
from footdt.spec.subject import MeshOptions
from tests.anatomy.foot_fixtures import template_mesh


def _part_of(mesh) -> np.ndarray:
    out = np.empty(len(mesh.elements), dtype=object)
    for name, ids in mesh.parts.items():
        out[ids] = name
    return out


def _keys(faces: np.ndarray) -> set[tuple[int, int]]:
    return set(map(tuple, faces.tolist()))


def test_every_bone_and_the_soft_tissue_is_a_part() -> None:
    mesh = template_mesh()
    assert set(mesh.parts) == {*BONES, SOFT_TISSUE}
    assert all(len(ids) > 20 for ids in mesh.parts.values())
    assert sum(len(ids) for ids in mesh.parts.values()) == len(mesh.elements)


def test_bone_tissue_interfaces_share_nodes() -> None:
    mesh = template_mesh()
    assert len(np.unique(np.round(mesh.nodes, 6), axis=0)) == len(mesh.nodes)  # no duplicate nodes
    outer = boundary_faces(mesh.elements)
    cen, _, _ = face_centroids_normals(mesh.nodes, mesh.elements, outer)
    on_cut = _keys(outer[cen[:, 2] > cen[:, 2].max() - 1e-6])
    part = _part_of(mesh)
    for bone in BONES:
        in_bone = np.zeros(len(mesh.elements), dtype=bool)
        in_bone[mesh.parts[bone]] = True
        local = boundary_faces(mesh.elements[mesh.parts[bone]])
        own = {(int(mesh.parts[bone][e]), int(f)) for e, f in local}
        shared = interface_faces(mesh.elements, in_bone)
        # every face of the bone is shared with a tissue element, except on the proximal cut
        assert own - _keys(shared) <= on_cut, bone
        assert len(shared) > 0
    tissue = np.zeros(len(mesh.elements), dtype=bool)
    tissue[mesh.parts[SOFT_TISSUE]] = True
    neighbours = interface_faces(mesh.elements, ~tissue)
    assert set(part[neighbours[:, 0]]) == set(BONES)


def test_plantar_regions_partition_the_contact_area() -> None:
    mesh = template_mesh()
    s = mesh.surfaces
    assert set(FOOT_SURFACES) | set(PLANTAR_REGIONS) | set(PLANTAR_ZONES) <= set(s)
    regions = [_keys(s[r]) for r in PLANTAR_REGIONS]
    assert all(regions)
    assert set().union(*regions) == _keys(s["plantar"])
    assert sum(map(len, regions)) == len(s["plantar"])  # disjoint
    assert _keys(s["hallux"]) | _keys(s["toes_2_5"]) == _keys(s["toes"])
    assert _keys(s["medial_heel"]) | _keys(s["lateral_heel"]) == _keys(s["rearfoot"])
    assert set().union(*(_keys(s[f"m{i}_head"]) for i in range(1, 6))) == _keys(s["forefoot"])
    assert all(len(s[z]) for z in PLANTAR_ZONES)
    # the plantar surface is the template's flat sole: its area is the footprint's
    _, _, area = face_centroids_normals(mesh.nodes, mesh.elements, s["plantar"])
    foot = slice_outline(build_template().slices[0], 400)[:, :2]
    nxt = np.roll(foot, -1, axis=0)
    footprint = 0.5 * abs(np.sum(foot[:, 0] * nxt[:, 1] - nxt[:, 0] * foot[:, 1]))
    assert area.sum() == pytest.approx(footprint, rel=0.03)
    x = face_centroids_normals(mesh.nodes, mesh.elements, s["rearfoot"])[0][:, 0]
    assert (
        x.max() < 0.31 * 265
        and face_centroids_normals(mesh.nodes, mesh.elements, s["toes"])[0][:, 0].min() > 0.6 * 265
    )


def test_proximal_cut_covers_tibia_fibula_and_tissue() -> None:
    mesh = template_mesh()
    cut = mesh.surfaces["proximal_cut"]
    assert set(_part_of(mesh)[cut[:, 0]]) == {"tibia", "fibula", SOFT_TISSUE}
    cen, nrm, _ = face_centroids_normals(mesh.nodes, mesh.elements, cut)
    assert np.allclose(cen[:, 2], 110.0) and np.all(nrm[:, 2] > 0.99)


def test_achilles_insertion_is_a_calcaneus_patch_facing_back() -> None:
    mesh = template_mesh()
    patch = mesh.surfaces["achilles_insertion"]
    assert set(_part_of(mesh)[patch[:, 0]]) == {"calcaneus"}
    cen, nrm, area = face_centroids_normals(mesh.nodes, mesh.elements, patch)
    assert 80 < area.sum() < 600  # mm^2
    assert np.all(nrm[:, 0] < 0) and cen[:, 0].max() < 25


def test_landmarks_lie_on_their_bones() -> None:
    mesh = template_mesh()
    lm = mesh.landmarks
    assert set(FOOT_LANDMARKS) <= set(lm)
    on = {
        "calcaneus_medial_process": "calcaneus",
        "calcaneus_lateral_process": "calcaneus",
        "achilles_insertion_centre": "calcaneus",
        "medial_malleolus": "tibia",
        "lateral_malleolus": "fibula",
        "navicular_tuberosity": "navicular",
        **{f"{m}_head": m for m in METATARSALS},
    }
    for name, bone in on.items():
        dist = np.linalg.norm(bone_surface_nodes(mesh, bone) - lm[name], axis=1).min()
        assert dist < 1e-9, name
    assert lm["calcaneus_medial_process"][1] > lm["calcaneus_lateral_process"][1]
    heads = np.array([lm[f"{m}_head"] for m in METATARSALS])
    assert np.all(np.diff(heads[:, 1]) < 0)  # M1 medial ... M5 lateral
    assert heads[0, 0] > heads[4, 0] and np.all(heads[:, 2] < 20)
    assert lm["medial_malleolus"][1] > lm["ankle_centre"][1] > lm["lateral_malleolus"][1]
    assert lm["toe_tip"][0] == pytest.approx(265.0, abs=1.0)
    assert lm["heel_posterior"][0] == pytest.approx(0.0, abs=1.0)


def test_unknown_part_size_and_too_fine_mesh_are_refused_before_meshing() -> None:
    geo = FootTemplate(type="foot_template")
    with pytest.raises(MeshError, match="no part named metatarsal_9"):
        mesh_foot(geo, MeshOptions(size=5, part_sizes={"metatarsal_9": 2}))
    with pytest.raises(MeshError, match=r"too fine: ~[\d,]+ nodes"):
        mesh_foot(geo, MeshOptions(size=0.3), memory_limit_gb=4)


@pytest.mark.slow
def test_doubling_the_foot_doubles_the_mesh_extent() -> None:
    big = mesh_foot(
        FootTemplate(type="foot_template", foot_length=530, foot_width=200, arch_height=80),
        MeshOptions(size=10),
    )
    small = template_mesh()
    assert np.ptp(big.nodes, axis=0) == pytest.approx(2 * np.ptp(small.nodes, axis=0), rel=0.01)


@pytest.mark.slow
def test_part_sizes_refine_one_bone_and_order_two_gives_tetra10() -> None:
    from footdt.mesh.quality import check_quality, quality_report

    mesh = mesh_foot(
        FootTemplate(type="foot_template"),
        MeshOptions(size=5, part_sizes={"metatarsal_2": 2.0}, order=2),
    )
    assert mesh.cell_type == "tetra10" and mesh.elements.shape[1] == 10
    assert len(mesh.parts["metatarsal_2"]) > 4 * len(template_mesh().parts["metatarsal_2"])
    check_quality(quality_report(mesh))


@pytest.mark.slow
def test_meshing_is_reproducible() -> None:
    again = mesh_foot(FootTemplate(type="foot_template"), MeshOptions(size=5))
    first = template_mesh()
    assert np.array_equal(again.elements, first.elements)
    assert np.array_equal(again.nodes, first.nodes)
