"""Abaqus at scale without Abaqus: decks + job scripts, run by a fake ``abaqus`` (the one of
tests/backends/test_abaqus.py, making per-job fake ODBs), then ``import_results.sh`` -> labels."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from footdt.ir import load_model
from footdt.labels.store import LabelStore
from footdt.pipeline.runner import RunOptions, run_cohort
from footdt.pipeline.status import cohort_status
from tests.backends.test_abaqus import FAKE_ODB_ACCESS
from tests.pipeline.conftest import REPO, make_cohort

MAKE_ODB = (
    "import sys; from pathlib import Path; from footdt.ir import load_model; "
    "from tests.backends.test_abaqus import _fake_odb; "
    "_fake_odb(load_model('.'), Path('footdt.odb'), seed=int(sys.argv[1]))"
)


def _fake_abaqus(bin_dir: Path, mod_dir: Path) -> None:
    """`abaqus job=...` writes a fake ODB of the model in the job's directory (seeded by its
    directory name, so jobs differ); `abaqus python` runs the extraction script."""
    bin_dir.mkdir()
    mod_dir.mkdir()
    (mod_dir / "odbAccess.py").write_text(FAKE_ODB_ACCESS)
    exe = bin_dir / "abaqus"
    exe.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        f'  python) shift; PYTHONPATH="{mod_dir}" exec "{sys.executable}" "$@" ;;\n'
        "  job=*) test -f footdt.inp || exit 3\n"
        f'         PYTHONPATH="{REPO}" exec "{sys.executable}" -c "{MAKE_ODB}" $(pwd | cksum | cut -c1-6) ;;\n'
        "esac\nexit 9\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


def test_decks_jobs_and_import(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort", subjects=2, trials=1)
    decks = tmp_path / "decks"
    report = run_cohort(cohort, RunOptions(backend="abaqus", out=decks, workers=2))
    assert report.counts()["done"] == 2 and report.store is None
    jobs = json.loads((decks / "jobs.json").read_text())["jobs"]
    assert [(j["subject"], j["trial"], j["dir"]) for j in jobs] == [
        ("r01", "t1", "r01/t1"), ("r02", "t1", "r02/t1"),
    ]  # fmt: skip
    for j in jobs:
        d = decks / j["dir"]
        assert {"footdt.inp", "abaqus_extract.py", "run_abaqus.sh", "model.json"} <= {
            p.name for p in d.iterdir()
        }
        assert load_model(d).content_hash() == j["model_hash"]
    lines = (decks / "jobs.txt").read_text().splitlines()
    assert lines == ["cd r01/t1 && sh run_abaqus.sh", "cd r02/t1 && sh run_abaqus.sh"]
    slurm = (decks / "slurm_array.sbatch").read_text()
    assert "#SBATCH --array=1-2" in slurm and (decks / "footdt-state.db").is_file()
    # up to date on a re-run; status sees ready decks and no labels yet
    assert run_cohort(cohort, RunOptions(backend="abaqus", out=decks)).counts()["up_to_date"] == 2
    store = tmp_path / "labels.db"
    LabelStore(store).close()
    rows = cohort_status(cohort, backend="abaqus", out=decks, store=str(store))
    assert {r["reason"] for r in rows} == {"deck ready; run the job, then import_results.sh"}

    # the "cluster": a fake abaqus; SLURM array task 1 by hand, then run_jobs.sh for all
    _fake_abaqus(tmp_path / "bin", tmp_path / "odbmod")
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{venv_bin}:{os.environ['PATH']}"}
    slurm_env = {**env, "SLURM_ARRAY_TASK_ID": "1", "SLURM_SUBMIT_DIR": str(decks)}
    subprocess.run(["bash", str(decks / "slurm_array.sbatch")], env=slurm_env, check=True)
    assert (decks / "r01/t1/footdt_results.json").is_file()
    assert not (decks / "r02/t1/footdt_results.json").exists()
    subprocess.run(["sh", str(decks / "run_jobs.sh")], env={**env, "JOBS": "2"}, check=True)
    assert (decks / "r02/t1/footdt_results.json").is_file()
    if shutil.which("footdt", path=env["PATH"]) is None:
        pytest.skip("the footdt command is not installed in this environment")
    done = subprocess.run(["sh", str(decks / "import_results.sh"), str(store)], env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with LabelStore(store) as st:
        got = st.query(backend="abaqus")
        assert {(r.subject, r.trial) for r in got} == {("r01", "t1"), ("r02", "t1")}
        assert {r.model_hash for r in got} == {j["model_hash"] for j in jobs}
        assert st.describe()["solves"] == 2
    rows = cohort_status(cohort, backend="abaqus", out=decks, store=str(store))
    assert {r["reason"] for r in rows} == {"deck ready; labels imported"}
