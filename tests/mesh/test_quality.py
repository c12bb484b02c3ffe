"""Quality report and gate; size estimate before meshing."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from footdt.errors import MeshError
from footdt.mesh.estimate import check_estimate, estimate_mesh
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.mesh.quality import QualityLimits, check_quality, dihedral_angles, gamma, quality_report
from footdt.mesh.structured import box_tets
from footdt.spec.subject import MeshOptions
from tests.anatomy.foot_fixtures import template_mesh

REGULAR = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float)


def _box_mesh() -> VolumeMesh:
    nodes, elements = box_tets((10.0, 10.0, 10.0), (4, 4, 4))
    return VolumeMesh(nodes, elements, "tetra", {"body": np.arange(len(elements))})


def test_regular_tet_has_gamma_one_and_the_regular_dihedral_angle() -> None:
    el = np.array([[0, 1, 2, 3]])
    assert gamma(REGULAR, el)[0] == pytest.approx(1.0)
    assert np.allclose(dihedral_angles(REGULAR, el), np.degrees(np.arccos(1 / 3)))
    flat = REGULAR.copy()
    flat[3] = [0.0, 0.0, -0.99]  # nearly in the plane of the other three: a sliver
    assert dihedral_angles(flat, el).min() < 5 and gamma(flat, el)[0] < 0.2
    flat[3] = [0.0, 0.0, -1.0]  # exactly in that plane: zero volume, angles 0 and 180 degrees
    assert dihedral_angles(flat, el).min() == pytest.approx(0.0, abs=1e-6)
    assert gamma(flat, el)[0] == 0.0
    swapped = np.array([[1, 0, 2, 3]])  # an inverted (negative-volume) element has the same angles
    assert np.allclose(
        np.sort(dihedral_angles(REGULAR, swapped)), np.sort(dihedral_angles(REGULAR, el))
    )


def test_template_passes_the_gate_and_the_report_is_json() -> None:
    report = quality_report(template_mesh())
    check_quality(report)
    assert report.overall.inverted == 0 and report.overall.min_dihedral_deg > 1.0
    assert report.parts["soft_tissue"].volume_error < 1e-9
    data = json.loads(json.dumps(report.as_dict()))
    assert set(data["parts"]) == set(template_mesh().parts)
    table = report.format_table()
    assert "calcaneus" in table and "overall" in table


def test_planted_inverted_element_fails_with_part_and_element() -> None:
    mesh = copy.deepcopy(template_mesh())
    victim = int(mesh.parts["metatarsal_2"][7])
    mesh.elements[victim, [1, 2]] = mesh.elements[victim, [2, 1]]
    with pytest.raises(
        MeshError,
        match=rf"part 'metatarsal_2' has 1 inverted element.*worst elements \(0-based\): {victim}",
    ):
        check_quality(quality_report(mesh))


def test_folded_mesh_fails_the_volume_check() -> None:
    mesh = _box_mesh()
    check_quality(quality_report(mesh))
    # an extra element overlapping an existing one keeps every volume positive but folds the mesh
    mesh.elements = np.vstack([mesh.elements, mesh.elements[:1]])
    mesh.parts["body"] = np.arange(len(mesh.elements))
    with pytest.raises(MeshError, match="off its enclosed volume"):
        check_quality(quality_report(mesh))


def test_sliver_limit_names_the_part() -> None:
    mesh = _box_mesh()
    mesh.nodes = mesh.nodes.copy()
    mesh.nodes[:, 2] *= 0.01  # squash the box: every element becomes flat
    with pytest.raises(MeshError, match="part 'body' has min dihedral"):
        check_quality(quality_report(mesh), QualityLimits(min_dihedral_deg=5.0))


def test_estimate_scales_with_size_and_refuses_big_meshes() -> None:
    coarse = estimate_mesh(1e6, 1e5, MeshOptions(size=4))
    fine = estimate_mesh(1e6, 1e5, MeshOptions(size=2))
    assert 4 < fine.elements / coarse.elements < 8
    quadratic = estimate_mesh(1e6, 1e5, MeshOptions(size=4, order=2))
    assert quadratic.nodes > 5 * coarse.nodes and quadratic.elements == coarse.elements
    assert (
        estimate_mesh(1e6, 1e5, MeshOptions(size=4, part_sizes={"talus": 2})).elements
        == fine.elements
    )
    check_estimate(coarse, memory_limit_gb=8)
    with pytest.raises(MeshError, match=r"mesh size 0.2 mm is too fine: ~[\d,]+ nodes.*GB limit"):
        check_estimate(estimate_mesh(1e6, 1e5, MeshOptions(size=0.2)), memory_limit_gb=8)
    with pytest.raises(MeshError, match="for solving"):
        check_estimate(fine, memory_limit_gb=1, solve=True)


def test_estimate_is_close_to_the_template_mesh() -> None:
    mesh = template_mesh()
    est = mesh.info["estimate"]
    assert est["elements"] == pytest.approx(len(mesh.elements), rel=0.15)
    assert est["nodes"] == pytest.approx(len(mesh.nodes), rel=0.15)


def test_gmsh_leaves_python_signal_handling_alone() -> None:
    """gmsh.initialize() resets SIGPIPE to the C default; a closed pipe would then kill the process."""
    import os

    from footdt.mesh.gmsh_session import gmsh_session

    def ignored() -> int:
        return int(open(f"/proc/{os.getpid()}/status").read().split("SigIgn:")[1].split()[0], 16)

    before = ignored()
    with gmsh_session():
        assert ignored() == before
    assert ignored() == before


def test_part_boundaries_from_one_sort_match_each_part_on_its_own() -> None:
    """A box split into two parts by a plane, and the foot template: the faces bounding each part
    (its outer skin and its interfaces with other parts) are those of the part meshed alone."""
    from footdt.mesh.faces import boundary_faces, part_boundary_faces

    nodes, elements = box_tets((10.0, 10.0, 10.0), (4, 4, 4))
    low = np.flatnonzero(nodes[elements[:, :4]].mean(axis=1)[:, 2] < 5.0)
    high = np.setdiff1d(np.arange(len(elements)), low)
    foot = template_mesh()
    for els, parts in ((elements, {"low": low, "high": high}), (foot.elements, foot.parts)):
        faces, outer = part_boundary_faces(els, parts)
        for name, ids in parts.items():
            local = boundary_faces(els[ids])
            alone = {(int(ids[e]), int(f)) for e, f in local}
            assert {(int(e), int(f)) for e, f in faces[name]} == alone, name
        assert {tuple(r) for r in outer.tolist()} == {
            tuple(r) for r in boundary_faces(els).tolist()
        }
    # the interface between the two box parts bounds both, with as many faces on each side
    faces, _ = part_boundary_faces(elements, {"low": low, "high": high})
    assert len(faces["low"]) == len(faces["high"])
    with pytest.raises(ValueError, match="overlap"):
        part_boundary_faces(elements, {"a": low, "b": np.arange(len(elements))})
    # the report on overlapping parts falls back to each part alone
    overlapping = VolumeMesh(
        nodes, elements, "tetra", {"all": np.arange(len(elements)), "low": low}
    )
    report = quality_report(overlapping)
    assert report.parts["low"].volume_error < 1e-12 and report.parts["all"].volume_error < 1e-12
    assert report.parts["low"].volume == pytest.approx(500.0)
