"""The fork server imports what the run's backend needs: a native worker has neither SfePy nor
gmsh (nor does its solve import SfePy); a SfePy worker has both, from the same process's pool."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from footdt.labels.store import LabelStore
from footdt.pipeline.preload import STACKS, module_for
from footdt.pipeline.runner import RunOptions, run_cohort
from footdt.pipeline.state import RunState
from footdt.pipeline.steps import CompileStep, LabelsStep, SolveStep, Step, StepContext
from tests.conftest import REPO
from tests.pipeline.conftest import make_cohort

WATCHED = ("sfepy", "gmsh", "footdt.fem.assembly", "pypardiso")


class Modules(Step):
    """Which of ``WATCHED`` the worker has imported before any other step of the trial ran."""

    name = "modules"
    needs = ("spec",)
    makes = ("imported",)

    def run(self, ctx: StepContext, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"imported": [m for m in WATCHED if m in sys.modules]}


class ModulesAfter(Modules):
    """The same after the trial's compile, solve and labels."""

    name = "modules_after"
    needs = ("labels",)


def imported(store: str, backend: str) -> dict[str, list[str]]:
    with LabelStore(store) as st:
        records = RunState.in_store(st).records(backend)
    return {r.step: r.outputs["imported"] for r in records if r.step.startswith("modules")}


def test_a_native_worker_imports_neither_sfepy_nor_gmsh(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort", subjects=1, trials=1)
    store = str(tmp_path / "labels.db")
    steps = (Modules(), CompileStep(), SolveStep(), LabelsStep(), ModulesAfter())
    for backend in ("sfepy", "native"):  # the fork server is restarted for the native stack
        report = run_cohort(cohort, RunOptions(backend=backend, store=store), steps=steps)
        assert report.counts()["done"] == 1, report.to_dict()
    assert {"sfepy", "gmsh", "footdt.fem.assembly"} <= set(imported(store, "sfepy")["modules"])
    native = imported(store, "native")
    assert "footdt.fem.assembly" in native["modules"]  # its kernel is preloaded (and PARDISO)
    assert not {"sfepy", "gmsh"} & set(native["modules"])
    assert "sfepy" not in native["modules_after"]  # gmsh: the block's compile step meshed it


def test_the_native_stack_alone_imports_neither() -> None:
    assert module_for("native").endswith(".native") and module_for("sfepy").endswith(".full")
    assert module_for("abaqus") == module_for(None) == module_for("sfepy")
    assert not {"gmsh", "footdt.backends.sfepy"} & set(STACKS["native"])
    code = (
        f"import sys; import {module_for('native')}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sfepy', 'gmsh')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
