"""The cohort spec: defaults are the paper's cohort; errors point at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from footdt.cohort.spec import CohortSpec, load_cohort_spec
from footdt.errors import SpecError
from tests.conftest import SPECS


def test_demo_spec_loads_and_resolves_the_template() -> None:
    spec = load_cohort_spec(SPECS / "cohorts" / "demo.yaml")
    assert spec.rearfoot_fraction == 0.76 and spec.trials == 2 and spec.n_runners == 40
    assert spec.body_mass_kg.mean == 67.7 and spec.height_m.sd == 0.06
    assert spec.template == (SPECS / "subjects" / "template.yaml").resolve()


def test_defaults_are_the_papers_cohort() -> None:
    s = CohortSpec()
    assert (s.n_runners, s.trials, s.rearfoot_fraction) == (50, 3, 0.76)


def test_unknown_key_and_bad_range_name_the_line(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("kind: cohort\nn_runners: 3\nrunners_typo: 4\n")
    with pytest.raises(SpecError, match=r"c.yaml:3: runners_typo: unknown key"):
        load_cohort_spec(p)
    p.write_text("kind: cohort\nspeed_m_s:\n  low: 4\n  high: 3\n")
    with pytest.raises(SpecError, match=r"c.yaml:2: speed_m_s: low \(4.0\) must not exceed high"):
        load_cohort_spec(p)
    p.write_text("kind: subject\n")
    with pytest.raises(SpecError, match="expected kind 'cohort'"):
        load_cohort_spec(p)
