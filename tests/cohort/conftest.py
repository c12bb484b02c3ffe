"""A minimal template subject spec and one small generated cohort shared by the cohort tests."""

from __future__ import annotations

from pathlib import Path

import pytest

# The paper's model in miniature: the phase and load structure of specs/subjects/template.yaml
# (which the cohort copies); only validated here, never meshed.
TEMPLATE = """\
kind: subject
id: template
geometry: {type: foot_template, foot_length: 265, foot_width: 100, arch_height: 40}
materials:
  bone: {E: 7300, nu: 0.3}
  soft_tissue: {E: 1.15, nu: 0.45}
sections:
  - {part: soft_tissue, material: soft_tissue}
  - {part: calcaneus, material: bone}
connectors:
  - name: fascia_medial
    a: {landmark: calcaneus_medial_process}
    b: {landmark: metatarsal_1_head}
    stiffness: 200
    law: tension_only
boundary_conditions:
  - {on: proximal_cut, dofs: [x, y, z]}
phases:
  - name: initial_contact
    pressures: [{surface: rearfoot, value: 0.1}]
    forces: [{on: achilles_insertion, total: [0, 0, 100]}]
  - name: mid_stance
    pressures: [{surface: forefoot, value: 0.1}, {surface: plantar, value: 0.0}]
  - name: push_off
    pressures: [{surface: toes, value: 0.1}]
"""


def write_template(d: Path) -> Path:
    p = d / "template.yaml"
    p.write_text(TEMPLATE)
    return p


def cohort_spec_text(n: int = 4, trials: int = 2, seed: int = 11) -> str:
    return (
        f"kind: cohort\nid: t\nseed: {seed}\nn_runners: {n}\ntrials: {trials}\n"
        "strides_per_trial: 8\ntemplate: template.yaml\n"
    )


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 runners x 2 trials (seed 11: 3 rearfoot, 1 non-rearfoot), generated once."""
    from footdt.cohort.generate import generate
    from footdt.cohort.spec import load_cohort_spec

    d = tmp_path_factory.mktemp("cohort")
    write_template(d)
    (d / "small.yaml").write_text(cohort_spec_text())
    generate(load_cohort_spec(d / "small.yaml"), d / "out")
    return d / "out"
