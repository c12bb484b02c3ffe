"""Spec loading: valid files, file:line errors, units, YAML/TOML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from footdt.errors import SpecError
from footdt.spec import SubjectSpec, load_spec
from tests.conftest import SPECS

BAR = """\
kind: subject
id: bar
geometry:
  type: box
  size: [10.0, 2.0, 2.0]
materials:
  steel: {E: 210000.0, nu: 0.3}
sections:
  - {part: body, material: steel}
boundary_conditions:
  - {on: xmin, dofs: [x, y, z]}
phases:
  - name: p
    pressures:
      - {surface: xmax, value: 1.0}
"""


@pytest.mark.parametrize(
    "path", sorted((SPECS / "verification").glob("*.yaml")), ids=lambda p: p.stem
)
def test_shipped_specs_validate(path: Path) -> None:
    loaded = load_spec(path)
    assert isinstance(loaded.spec, SubjectSpec)
    assert len(loaded.hash) == 16


def test_on_is_a_string_not_a_boolean(write_spec) -> None:
    spec = load_spec(write_spec(BAR)).spec
    assert spec.boundary_conditions[0].on == "xmin"


def _error(write_spec, text: str) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text))
    return str(info.value)


def test_unknown_key_names_file_line_and_field(write_spec) -> None:
    msg = _error(
        write_spec,
        BAR.replace(
            "  steel: {E: 210000.0, nu: 0.3}", "  steel: {E: 210000.0, nu: 0.3, colour: red}"
        ),
    )
    assert re.search(r"spec\.yaml:7: materials\.steel\.colour: unknown key", msg), msg


@pytest.mark.parametrize(
    ("replacement", "field"),
    [("E: -5.0", "materials.steel.E"), ("E: 0.0", "materials.steel.E")],
)
def test_nonpositive_modulus(write_spec, replacement: str, field: str) -> None:
    msg = _error(write_spec, BAR.replace("E: 210000.0", replacement))
    assert f"spec.yaml:7: {field}: must be >= 0.001 and <= 1e+06 MPa, got" in msg


def test_incompressible_poisson_ratio_rejected(write_spec) -> None:
    msg = _error(write_spec, BAR.replace("nu: 0.3", "nu: 0.5"))
    assert "spec.yaml:7: materials.steel.nu: must be > -1 and < 0.5, got 0.5" in msg


def test_error_points_at_the_right_list_item(write_spec) -> None:
    text = BAR + "  - name: q\n    pressures:\n      - {surface: xmax, value: high}\n"
    msg = _error(write_spec, text)
    assert msg.startswith(f"{write_spec(text)}:18: phases.1.pressures.0.value:"), msg


def test_duplicate_key_is_an_error(write_spec) -> None:
    msg = _error(write_spec, BAR.replace("id: bar\n", "id: bar\nid: again\n"))
    assert "spec.yaml:3: duplicate key 'id'" in msg


def test_yaml_syntax_error_has_a_line(write_spec) -> None:
    msg = _error(write_spec, BAR.replace("  size: [10.0, 2.0, 2.0]", "  size: [10.0, 2.0, 2.0"))
    assert re.search(r"spec\.yaml:\d+: YAML syntax error", msg), msg


def test_missing_file() -> None:
    with pytest.raises(SpecError, match="nope.yaml: file not found"):
        load_spec("nope.yaml")


def test_toml_spec_equals_yaml(write_spec) -> None:
    toml = """\
kind = "subject"
id = "bar"
[geometry]
type = "box"
size = [10.0, 2.0, 2.0]
[materials.steel]
E = 210000.0
nu = 0.3
[[sections]]
part = "body"
material = "steel"
[[boundary_conditions]]
on = "xmin"
dofs = ["x", "y", "z"]
[[phases]]
name = "p"
pressures = [{surface = "xmax", value = 1.0}]
"""
    a = load_spec(write_spec(BAR)).spec
    b = load_spec(write_spec(toml, "spec.toml")).spec
    assert a == b


def test_toml_error_has_a_line(write_spec) -> None:
    toml = 'kind = "subject"\nid = "bar"\ncolour = "red"\n'
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(toml, "bad.toml"))
    assert "bad.toml:3: colour: unknown key" in str(info.value)


def test_tube_radii_and_inclusion_inside(write_spec) -> None:
    bad = BAR.replace(
        "  type: box\n  size: [10.0, 2.0, 2.0]",
        "  type: tube\n  inner_radius: 5\n  outer_radius: 4\n  height: 1",
    )
    assert "inner_radius (5.0) must be smaller than outer_radius (4.0)" in _error(write_spec, bad)
    bad = BAR.replace(
        "  type: box\n  size: [10.0, 2.0, 2.0]",
        "  type: box_with_inclusion\n  size: [10, 10, 10]\n  inclusion_size: [12, 2, 2]",
    )
    assert "sticks out of the box along x" in _error(write_spec, bad)
