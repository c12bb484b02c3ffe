"""The bounded fuzz run of ``footdt validate`` in the default test run (``make fuzz`` runs many
more): every mutated spec and profile is answered within the time limit, with clean one-line
errors, and no mutation that makes a file invalid is accepted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fuzz.harness import run_cases
from tests.fuzz.mutator import SPECIAL, generate, seeds

CASES = int(os.environ.get("FOOTDT_FUZZ_CASES", "300"))


def test_every_seed_file_is_valid_before_mutation() -> None:
    assert len(seeds()) >= 15


@pytest.mark.parametrize("seed", [0])
def test_fuzz_validate(seed: int, tmp_path: Path) -> None:
    summary = run_cases(generate(CASES, seed), tmp_path)
    assert summary.cases == CASES
    assert summary.bad == 0, summary.as_dict()["examples"]
    assert summary.counts["error"] >= len(SPECIAL)
