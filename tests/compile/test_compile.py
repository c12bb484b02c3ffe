"""Compile passes: a spec becomes a consistent IR, and bad references fail with file:line."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.compile import compile_spec
from footdt.errors import ModelError, SpecError
from footdt.mechanics import tet_volumes
from footdt.spec import load_spec
from tests.conftest import SPECS
from tests.spec.test_loader import BAR


def test_bar_compiles_to_consistent_model() -> None:
    model = compile_spec(load_spec(SPECS / "verification" / "bar_compression.yaml"))
    assert model.cell_type == "tetra"
    assert np.all(tet_volumes(model.nodes, model.elements) > 0)
    assert tet_volumes(model.nodes, model.elements).sum() == pytest.approx(100 * 10 * 10)
    # the pressure surface covers exactly the end face area
    faces = model.surface_faces("xmax")
    p = model.nodes[faces]
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1).sum()
    assert area == pytest.approx(100.0)
    assert np.allclose(model.nodes[model.surface_nodes("xmax"), 0], 100.0)
    assert model.provenance["spec_hash"] and model.provenance["mesh_hash"] == model.mesh_hash()


def test_same_spec_same_mesh_hash() -> None:
    path = SPECS / "verification" / "two_material_block.yaml"
    assert (
        compile_spec(load_spec(path)).content_hash() == compile_spec(load_spec(path)).content_hash()
    )


def test_area_distributed_force_sums_to_total(write_spec) -> None:
    text = BAR.replace(
        "    pressures:\n      - {surface: xmax, value: 1.0}\n",
        "    forces:\n      - {on: xmax, total: [1.0, -2.0, 3.0]}\n",
    )
    model = compile_spec(load_spec(write_spec(text)))
    load = model.phases[0].nodal_loads[0]
    assert load.forces.sum(axis=0) == pytest.approx([1.0, -2.0, 3.0])
    assert set(model.node_sets[load.node_set]) == set(model.surface_nodes("xmax"))


def _compile_error(write_spec, text: str, exc: type[Exception] = SpecError) -> str:
    with pytest.raises(exc) as info:
        compile_spec(load_spec(write_spec(text)))
    return str(info.value)


def test_missing_surface_names_line(write_spec) -> None:
    msg = _compile_error(write_spec, BAR.replace("{surface: xmax,", "{surface: top,"))
    assert "spec.yaml:15: phases.0.pressures.0.surface: no surface named 'top'" in msg
    assert "xmax" in msg  # lists what exists


def test_missing_part_in_section(write_spec) -> None:
    msg = _compile_error(write_spec, BAR.replace("{part: body,", "{part: bone,"))
    assert "spec.yaml:9: sections.0.part: no part named 'bone'" in msg


def test_missing_material(write_spec) -> None:
    msg = _compile_error(write_spec, BAR.replace("material: steel}", "material: titanium}"))
    assert "sections.0.material: no material named 'titanium'" in msg


def test_no_boundary_condition_says_which_part_floats(write_spec) -> None:
    text = BAR.replace("boundary_conditions:\n  - {on: xmin, dofs: [x, y, z]}\n", "")
    msg = _compile_error(write_spec, text, ModelError)
    assert "part(s) body can move as a rigid body" in msg and "translation x" in msg


def test_partial_constraint_names_free_modes(write_spec) -> None:
    text = BAR.replace("{on: xmin, dofs: [x, y, z]}", "{on: xmin, dofs: [x]}")
    msg = _compile_error(write_spec, text, ModelError)
    assert "translation y" in msg and "translation z" in msg and "rotation about x" in msg


def test_connector_with_coincident_ends(write_spec) -> None:
    text = BAR + (
        "landmarks:\n  a: [10.0, 0.0, 0.0]\n  b: [10.0, 0.0, 0.0]\n"
        "connectors:\n  - {name: band, a: {landmark: a}, b: {landmark: b}, stiffness: 10}\n"
    )
    msg = _compile_error(write_spec, text)
    assert "connector 'band': both ends resolve to node" in msg and "spec.yaml:20" in msg


def test_unknown_landmark_in_connector(write_spec) -> None:
    text = (
        BAR
        + "connectors:\n  - {name: band, a: {landmark: heel}, b: {point: [0, 0, 0]}, stiffness: 10}\n"
    )
    assert "no landmark named 'heel'" in _compile_error(write_spec, text)


def test_landmark_far_from_mesh(write_spec) -> None:
    text = BAR + "landmarks:\n  far: [500.0, 0.0, 0.0]\n"
    assert "landmark 'far'" in _compile_error(write_spec, text)
