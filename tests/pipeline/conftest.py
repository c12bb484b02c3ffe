"""Small cohorts of primitive models (a coarse two-material block) for fast pipeline tests."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from footdt.cohort.manifest import Manifest, Subject, Trial, save_manifest
from footdt.labels.store import LabelStore
from footdt.spec.loader import read_data
from tests.conftest import REPO, SPECS

BLOCK = SPECS / "verification" / "two_material_block.yaml"


def pressure(i: int, j: int) -> float:
    """Plantar-like pressure (MPa) of subject i, trial j: every trial has its own labels."""
    return round(0.1 * (1.0 + 0.1 * i + 0.05 * j), 6)


def write_trial_spec(
    path: Path, subject: str, trial: str, p_mpa: float, size: float = 10.0
) -> None:
    data, _ = read_data(BLOCK)
    d: dict[str, Any] = copy.deepcopy(data)
    d.update(id=subject, trial=trial, mesh={"size": size, "part_sizes": {"inclusion": size / 2}})
    d["phases"][0]["pressures"][0]["value"] = p_mpa
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(d, sort_keys=False))


def make_cohort(root: Path, subjects: int = 3, trials: int = 2, size: float = 10.0) -> Path:
    """``root/manifest.json`` + per trial ``spec.yaml`` (block, mesh ``size`` mm) and ``imu.npz``."""
    subs = []
    for i in range(subjects):
        sid = f"r{i + 1:02d}"
        ts = []
        for j in range(trials):
            tid = f"t{j + 1}"
            d = root / sid / tid
            write_trial_spec(d / "spec.yaml", sid, tid, pressure(i, j), size)
            np.savez(d / "imu.npz", windows=np.zeros((2, 300, 6), dtype=np.float32))
            ts.append(Trial(id=tid, imu=f"{sid}/{tid}/imu.npz", spec=f"{sid}/{tid}/spec.yaml"))
        subs.append(Subject(id=sid, group="rearfoot", body_mass_kg=70.0, height_m=1.75, trials=ts))
    save_manifest(Manifest(subjects=subs, description="pipeline test cohort"), root)
    return root


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    return make_cohort(tmp_path / "cohort")


def snapshot(store: str) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """Every label row by key: value (MPa) and provenance that must match between two runs."""
    with LabelStore(store, create=False) as st:
        rows = st.query()
        keys = [r.key for r in rows]
        assert len(keys) == len(set(keys)), "duplicate label rows"
        n_solves = st.describe()["solves"]
    trials = {(r.subject, r.trial) for r in rows}
    assert n_solves == len(trials), f"{n_solves} solve records for {len(trials)} trials"
    return {
        r.key: (
            r.value_mpa,
            r.spec_hash,
            r.mesh_hash,
            r.model_hash,
            r.backend_version,
            r.max_on_boundary,
        )
        for r in rows
    }


def assert_same_store(a: str, b: str, rtol: float = 1e-9) -> None:
    sa, sb = snapshot(a), snapshot(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k][1:] == sb[k][1:], k
        assert sa[k][0] == pytest.approx(sb[k][0], rel=rtol, abs=1e-12), k


def cli() -> list[str]:
    """``python -m footdt`` once app.py registers ``run``; until then this module's own app."""
    from footdt.cli.app import app

    names = {c.name for c in app.registered_commands}
    if "run" in names:
        return [sys.executable, "-m", "footdt"]
    return [sys.executable, "-m", "footdt.cli.run"]


__all__ = ["REPO", "assert_same_store", "cli", "make_cohort", "snapshot", "write_trial_spec"]
