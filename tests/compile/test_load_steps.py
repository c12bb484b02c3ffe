"""``load_steps: carry_forward``: Abaqus's step semantics (OP=MOD) resolved at compile time into
complete load cases, so every backend solves them alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from footdt.backends import REGISTRY, get_backend
from footdt.compile import compile_spec
from footdt.spec.loader import load_spec

AVAILABLE = [name for name in REGISTRY if get_backend(name).availability()]

STEPS = """\
kind: subject
id: block
geometry: {{type: box, size: [10.0, 4.0, 4.0]}}
mesh: {{size: 2.0}}
materials:
  steel: {{E: 1000.0, nu: 0.3}}
sections:
  - {{part: body, material: steel}}
boundary_conditions:
  - {{on: xmin, dofs: [x, y, z]}}
{mode}
phases:
  - name: one
    pressures: [{{surface: xmax, value: 1.0}}, {{surface: ymax, value: 0.5}}]
    forces: [{{name: pull_1, on: zmax, total: [0.0, 0.0, 4.0]}}]
  - name: two
    pressures: [{{surface: xmax, value: 2.0}}]
    forces: [{{name: pull_2, on: zmax, total: [0.0, 0.0, 3.0]}}]
  - name: three
    forces: [{{name: pull_1, on: zmax, total: [0.0, 0.0, -1.0]}}]
"""

# the same load cases written out by hand, phase by phase (what Abaqus keeps in force)
BY_HAND = """\
  - name: one
    pressures: [{surface: xmax, value: 1.0}, {surface: ymax, value: 0.5}]
    forces: [{on: zmax, total: [0.0, 0.0, 4.0]}]
  - name: two
    pressures: [{surface: ymax, value: 0.5}, {surface: xmax, value: 2.0}]
    forces: [{on: zmax, name: a, total: [0.0, 0.0, 4.0]}, {on: zmax, name: b, total: [0.0, 0.0, 3.0]}]
  - name: three
    pressures: [{surface: ymax, value: 0.5}, {surface: xmax, value: 2.0}]
    forces: [{on: zmax, name: a, total: [0.0, 0.0, 3.0]}, {on: zmax, name: b, total: [0.0, 0.0, -1.0]}]
"""


def _model(tmp_path: Path, text: str, name: str):  # type: ignore[no-untyped-def]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return compile_spec(load_spec(path))


def test_carry_forward_keeps_what_a_phase_does_not_replace(tmp_path: Path) -> None:
    model = _model(tmp_path, STEPS.format(mode="load_steps: carry_forward"), "carry")
    _, two, three = model.phases
    assert [(p.surface, p.value) for p in two.pressures] == [("ymax", 0.5), ("xmax", 2.0)]
    assert [(p.surface, p.value) for p in three.pressures] == [("ymax", 0.5), ("xmax", 2.0)]
    assert [ld.name for ld in two.nodal_loads] == ["pull_1", "pull_2"]
    assert [ld.name for ld in three.nodal_loads] == ["pull_2", "pull_1"]  # pull_1 replaced
    np.testing.assert_allclose(sum(ld.forces.sum(axis=0) for ld in three.nodal_loads), [0, 0, 2.0])
    independent = _model(tmp_path, STEPS.format(mode=""), "independent")
    assert [len(p.pressures) for p in independent.phases] == [2, 1, 0]


@pytest.mark.parametrize("backend", AVAILABLE)
def test_every_backend_solves_carried_loads_as_the_hand_written_cases(
    tmp_path: Path, backend: str
) -> None:
    carry = _model(tmp_path, STEPS.format(mode="load_steps: carry_forward"), "carry")
    text = STEPS.format(mode="")
    hand = _model(tmp_path, text[: text.index("  - name: one")] + BY_HAND, "hand")
    a = get_backend(backend).solve(carry, tmp_path / "a")
    b = get_backend(backend).solve(hand, tmp_path / "b")
    for name in ("one", "two", "three"):
        np.testing.assert_allclose(
            a.phases[name].von_mises, b.phases[name].von_mises, rtol=1e-9, atol=1e-12
        )
    # and the carried loads matter: phase three is not phase three alone
    alone = get_backend(backend).solve(
        _model(tmp_path, STEPS.format(mode=""), "alone"), tmp_path / "c"
    )
    assert np.abs(alone.phases["three"].von_mises - a.phases["three"].von_mises).max() > 0.1


def test_template_paper_spec_carries_the_paper_loads() -> None:
    """The spec only: its push-off keeps the mid-stance rearfoot pressure and Achilles force."""
    spec = load_spec(
        Path(__file__).resolve().parents[2] / "specs/subjects/template_paper.yaml"
    ).spec
    assert "paper" in spec.id and spec.load_steps == "carry_forward"
    forces = {ph.name: [f.name for f in ph.forces] for ph in spec.phases}
    assert forces == {"initial_contact": [], "mid_stance": ["achilles_mid_stance"],
                      "push_off": ["achilles_push_off"]}  # fmt: skip
    push_off = {p.surface for p in spec.phases[2].pressures}
    assert "rearfoot" not in push_off  # so the mid-stance rearfoot pressure stays


@pytest.mark.slow
def test_template_paper_compiles_to_the_template_plus_carried_loads() -> None:
    """Compiled (the 3 mm template mesh): initial contact and mid-stance are the template's load
    cases; push-off adds the mid-stance rearfoot pressure and Achilles force to its own."""
    root = Path(__file__).resolve().parents[2] / "specs" / "subjects"
    paper = compile_spec(load_spec(root / "template_paper.yaml"))
    plain = compile_spec(load_spec(root / "template.yaml"))
    assert paper.mesh_hash() == plain.mesh_hash()
    for a, b in zip(paper.phases[:2], plain.phases[:2], strict=True):
        assert a.pressures == b.pressures and len(a.nodal_loads) == len(b.nodal_loads)
    push = paper.phases[2]
    assert dict((p.surface, p.value) for p in push.pressures) == {
        "rearfoot": 0.0852,
        **{p.surface: p.value for p in plain.phases[2].pressures},
    }
    total = sum(ld.forces.sum(axis=0) for ld in push.nodal_loads)
    np.testing.assert_allclose(total, [1023.9 - 57.3, 0.0, 3147.4 + 2788.6], rtol=1e-9)
