"""Read and check a cohort before anything is written; build one ``TrialTask`` per trial.

Every problem found here (missing file, duplicate subject, a spec that does not validate or does
not belong to its manifest entry) is a one-line ``FootdtError`` raised before a store, a run
directory or a log file exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from footdt.cohort.manifest import MANIFEST, Manifest, load_manifest
from footdt.errors import FootdtError, SpecError
from footdt.pipeline.steps import Step, TrialTask
from footdt.spec.profile import SolverProfile


@dataclass(frozen=True)
class CohortTrial:
    subject: str
    trial: str
    spec_path: Path  # absolute
    spec_hash: str


def load_cohort(cohort_dir: str | Path) -> tuple[Manifest, list[CohortTrial]]:
    """The manifest and its trials, every subject spec loaded and checked against its entry."""
    from footdt.spec.loader import load_spec
    from footdt.spec.subject import SubjectSpec

    d = Path(cohort_dir)
    manifest = load_manifest(d)
    where = d / MANIFEST
    trials = []
    for s in manifest.subjects:
        for t in s.trials:
            path = (d / t.spec).resolve()
            loaded = load_spec(path)
            spec = loaded.spec
            if not isinstance(spec, SubjectSpec):
                raise SpecError(f"{path}:1: kind: subject {s.id} trial {t.id} needs a subject spec")
            if (spec.id, spec.trial) != (s.id, t.id):
                raise FootdtError(
                    f"{where}: subject {s.id} trial {t.id}: {t.spec} is the spec of subject "
                    f"{spec.id!r} trial {spec.trial!r}; set its `id: {s.id}` and `trial: {t.id}` "
                    "(labels are stored under the spec's ids)"
                )
            trials.append(CohortTrial(s.id, t.id, path, loaded.hash))
    return manifest, trials


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def solver_threads(profile: SolverProfile, workers: int) -> int:
    """Linear-solver threads per worker: the profile's, or the cores shared among the workers."""
    if profile.threads > 0:
        return profile.threads
    return max(1, available_cores() // max(1, workers))


def make_tasks(
    trials: list[CohortTrial],
    out: Path,
    backend: str,
    profile: SolverProfile,
    steps: tuple[Step, ...],
    *,
    store_url: str | None,
    state_dir: str | None,
    vtu: bool,
    capture_fds: bool,
    threads: int,
) -> list[TrialTask]:
    """One task per trial; the trial's files go to ``out/SUBJECT/TRIAL``, its log to ``out/logs``."""
    out = out.resolve()
    return [
        TrialTask(
            subject=t.subject,
            trial=t.trial,
            spec_path=str(t.spec_path),
            trial_dir=str(out / t.subject / t.trial),
            log_path=str(out / "logs" / f"{t.subject}.log"),
            backend=backend,
            profile=profile,
            steps=steps,
            store_url=store_url,
            state_dir=state_dir,
            vtu=vtu,
            capture_fds=capture_fds,
            threads=threads,
        )
        for t in trials
    ]


def store_location(store: str) -> str:
    """A store URL every worker can open: plain paths become absolute."""
    if "://" in store:
        return store
    return str(Path(store).expanduser().resolve())
