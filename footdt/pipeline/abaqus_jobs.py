"""Abaqus at scale: ``footdt run COHORT --backend abaqus --out decks/``.

Per trial the steps are ``compile -> deck``: ``decks/SUBJECT/TRIAL/`` holds the model directory
(``model.json``, ``arrays.npz``) and the backend's ``footdt.inp``, ``abaqus_extract.py`` and
``run_abaqus.sh``. Then, for a machine with Abaqus licences:

- ``jobs.txt``: one shell command per job (``cd SUBJECT/TRIAL && sh run_abaqus.sh``);
- ``jobs.json``: the same jobs with subject, trial, model hash and deck hash;
- ``run_jobs.sh``: runs every job, ``JOBS`` at a time (``JOBS=4 sh run_jobs.sh``);
- ``slurm_array.sbatch``: a SLURM array, task *i* runs line *i* of ``jobs.txt``;
- ``import_results.sh [STORE]``: ``footdt labels import`` of each job's ``footdt_results.json``.

The run state is ``decks/footdt-state.db``: a re-run rewrites only decks whose spec or model
changed. Each deck file is written to a temporary directory and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from footdt import __version__
from footdt.fileio import atomic_write
from footdt.pipeline.state import RunState
from footdt.pipeline.steps import CompileStep, Step, StepContext, TrialTask
from footdt.pipeline.trial import TrialOutcome

DECK_FILES = ("footdt.inp", "abaqus_extract.py", "run_abaqus.sh")
RESULTS = "footdt_results.json"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


class DeckStep(Step):
    """Write the Abaqus deck, extraction script and run script next to the model."""

    name = "deck"
    needs = ("model",)
    makes = ("deck",)

    def environment(self, ctx: StepContext) -> dict[str, Any]:
        return {"backend": "abaqus", "footdt": __version__}

    def run(self, ctx: StepContext, values: Mapping[str, Any]) -> dict[str, Any]:
        from footdt.backends.inp import compile_deck

        model = ctx.model()
        with tempfile.TemporaryDirectory(dir=ctx.trial_dir, prefix=".deck-") as tmp:
            written = compile_deck(model, tmp, "abaqus")
            for path in written.values():
                os.replace(path, ctx.trial_dir / path.name)
        ctx.log(f"wrote the Abaqus deck ({model.n_elements} elements) -> {ctx.trial_dir}")
        return {"deck": _sha(ctx.trial_dir / DECK_FILES[0])}

    def verify(self, ctx: StepContext, outputs: Mapping[str, Any], thorough: bool) -> bool:
        if not all((ctx.trial_dir / f).is_file() for f in DECK_FILES):
            return False
        return not thorough or _sha(ctx.trial_dir / DECK_FILES[0]) == outputs.get("deck")


def deck_steps() -> tuple[Step, ...]:
    return (CompileStep(), DeckStep())


def _script(path: Path, text: str) -> Path:
    atomic_write(path, lambda tmp: tmp.write_text(text))
    path.chmod(0o755)
    return path


def write_job_files(
    out: Path,
    tasks: list[TrialTask],
    outcomes: list[TrialOutcome],
    state: RunState,
    store: str | None = None,
) -> dict[str, Any]:
    """Job list and scripts for every trial whose deck is ready; returns their paths and count."""
    ok = {(o.subject, o.trial) for o in outcomes if o.status != "failed"}
    jobs = []
    for t in tasks:
        deck = state.get(t.subject, t.trial, "abaqus", "deck")
        model = state.get(t.subject, t.trial, "abaqus", "compile")
        if (t.subject, t.trial) not in ok or deck is None or model is None:
            continue
        rel = Path(t.trial_dir).relative_to(out).as_posix()
        jobs.append({"subject": t.subject, "trial": t.trial, "dir": rel,
                     "model_hash": model.outputs.get("model"), "deck_sha256": deck.outputs["deck"],
                     "results": f"{rel}/{RESULTS}"})  # fmt: skip
    lines = [f"cd {shlex.quote(j['dir'])} && sh run_abaqus.sh" for j in jobs]
    files = {"jobs": out / "jobs.txt", "jobs_json": out / "jobs.json", "run": out / "run_jobs.sh",
             "slurm": out / "slurm_array.sbatch", "import": out / "import_results.sh"}  # fmt: skip
    atomic_write(files["jobs"], lambda tmp: tmp.write_text("".join(f"{x}\n" for x in lines)))
    payload = {"format": "footdt-abaqus-jobs", "version": 1, "footdt": __version__, "jobs": jobs}
    atomic_write(files["jobs_json"], lambda tmp: tmp.write_text(json.dumps(payload, indent=1)))
    _script(files["run"], _RUN.format(n=len(jobs)))
    cpus = max(1, tasks[0].profile.threads) if tasks else 1
    _script(files["slurm"], _SLURM.format(n=max(1, len(jobs)), cpus=cpus))
    default_store = shlex.quote(store) if store else "labels.db"
    imports = "".join(f"import_one {shlex.quote(j['dir'])}\n" for j in jobs)
    _script(files["import"], _IMPORT.format(store=default_store, imports=imports))
    return {"n_jobs": len(jobs), "files": {k: str(v) for k, v in files.items()}}


_RUN = """#!/bin/sh
# footdt: run the {n} Abaqus jobs of jobs.txt, JOBS at a time (default 1): JOBS=4 sh run_jobs.sh
# Each job writes SUBJECT/TRIAL/footdt_results.json; then: sh import_results.sh STORE
set -e
cd "$(dirname "$0")"
tr '\\n' '\\0' < jobs.txt | xargs -0 -r -P "${{JOBS:-1}}" -n 1 sh -c
"""

_SLURM = """#!/bin/bash
# footdt: one Abaqus job per SLURM array task (task i runs line i of jobs.txt).
# Submit from this directory: sbatch slurm_array.sbatch  (add your site's partition, account and
# Abaqus licence options, e.g. #SBATCH -L abaqus@server:5). Then: sh import_results.sh STORE
#SBATCH --job-name=footdt-abaqus
#SBATCH --array=1-{n}
#SBATCH --cpus-per-task={cpus}
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
cd "${{SLURM_SUBMIT_DIR:-$(dirname "$0")}}"
line=$(sed -n "${{SLURM_ARRAY_TASK_ID}}p" jobs.txt)
test -n "$line" || {{ echo "no job ${{SLURM_ARRAY_TASK_ID}} in jobs.txt" >&2; exit 2; }}
sh -c "$line"
"""

_IMPORT = """#!/bin/sh
# footdt: import every job's Abaqus results into a label store (SQLite path or SQLAlchemy URL):
#   sh import_results.sh [STORE]     (default: $FOOTDT_STORE, else {store})
# Jobs without results yet are listed; the exit code is the number not imported.
here=$(cd "$(dirname "$0")" && pwd)
STORE="${{1:-${{FOOTDT_STORE:-{store}}}}}"
missing=0
import_one() {{
  if [ -f "$here/$1/footdt_results.json" ]; then
    footdt labels import "$here/$1/footdt_results.json" --model "$here/$1" --store "$STORE" \\
      || missing=$((missing + 1))
  else
    echo "no results yet: $1" >&2
    missing=$((missing + 1))
  fi
}}
{imports}exit $missing
"""
