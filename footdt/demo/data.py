"""The demo's data: the subject template at the demo's element size, the synthetic training
cohort, the runners whose FE labels exist, and a new runner (same cohort spec, another seed)
whose recording is written as a CSV like a real one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from footdt.demo.options import MIN_RUNNERS, DemoError, DemoOptions
from footdt.demo.state import digest
from footdt.domain import CHANNELS, NON_REARFOOT, REARFOOT_STRIKE

#: The new runner: drawn from the same cohort spec with seed + NEW_SEED_OFFSET.
NEW_SEED_OFFSET = 1000
NEW_ID = "N001"
RECORDING_COLUMNS = CHANNELS


def cohort_spec(opts: DemoOptions) -> Any:
    """The demo's cohort spec (``opts.cohort_spec``) with the command line's overrides, validated."""
    from footdt.cohort.spec import CohortSpec, load_cohort_spec

    spec = load_cohort_spec(opts.cohort_spec)
    upd: dict[str, Any] = {"n_runners": opts.runners}
    for key, value in (("trials", opts.trials), ("strides_per_trial", opts.strides),
                       ("seed", opts.seed), ("foot_model", opts.foot_model)):  # fmt: skip
        if value is not None:
            upd[key] = value
    if "foot_model" in upd and "foot_model" not in CohortSpec.model_fields:
        raise DemoError("--foot-model: this footdt's cohort generator has one foot model only")
    return CohortSpec.model_validate({**spec.model_dump(), **upd})


def write_template(spec: Any, size_mm: float, path: Path) -> str:
    """The cohort's subject template with ``mesh.size = size_mm``, as YAML at ``path``; returns
    the text (part of the cohort key)."""
    import yaml

    from footdt.cohort.generate import DEFAULT_TEMPLATE
    from footdt.spec.loader import load_spec

    loaded = load_spec(spec.template or DEFAULT_TEMPLATE).with_mesh(size_mm)
    text = (f"# footdt demo: {loaded.source.path} with mesh.size {size_mm:g} mm\n"
            + yaml.safe_dump(loaded.spec.model_dump(mode="json", exclude_none=True), sort_keys=False))  # fmt: skip
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return text


def cohort_key(spec: Any, template_text: str) -> str:
    return digest(spec.model_dump(mode="json", exclude={"template"}), template_text)


def generate_cohort(spec: Any, template: Path, out: Path, update: Any) -> None:
    """``footdt cohort generate`` into ``out`` (replaced if it exists)."""
    from footdt.cohort.generate import generate

    if out.exists():
        shutil.rmtree(out)
    generate(spec, out, template=template,
             progress=lambda done, total, what: update(done, total=total, detail=what))  # fmt: skip


def cohort_facts(cohort: Path) -> dict[str, Any]:
    """Counts and means of a cohort (stable keys for ``--json``)."""
    from footdt.cohort.manifest import load_manifest

    m = load_manifest(cohort)
    groups = [s.group for s in m.subjects]

    def stat(values: list[float]) -> list[float]:
        a = np.asarray(values, float)
        return [round(float(a.mean()), 3), round(float(a.std(ddof=1)) if len(a) > 1 else 0.0, 3)]

    return {"dir": str(cohort), "n_runners": len(m.subjects),
            "n_rearfoot": groups.count(REARFOOT_STRIKE), "n_non_rearfoot": groups.count(NON_REARFOOT),
            "n_trials": sum(len(s.trials) for s in m.subjects),
            "body_mass_kg": stat([s.body_mass_kg for s in m.subjects]),
            "height_m": stat([s.height_m for s in m.subjects]),
            "foot_length_mm": stat([s.foot_length_mm or np.nan for s in m.subjects])}  # fmt: skip


def select_solved(cohort: Path, store: Path, used: Path, backend: str) -> dict[str, Any]:
    """Write ``used``: a cohort of the trials of ``cohort`` that have labels in ``store`` (runners
    without any are left out), with relative symlinks to the runner directories. Returns the
    runners kept and dropped."""
    from footdt.cohort import manifest as mf
    from footdt.labels import LabelStore

    with LabelStore(store) as st:
        done = {(r.subject, r.trial) for r in st.query(backend=backend)}
    manifest = mf.load_manifest(cohort)
    keep, dropped = [], []
    for s in manifest.subjects:
        trials = [t for t in s.trials if (s.id, t.id) in done]
        if trials:
            keep.append(s.model_copy(update={"trials": trials}))
        else:
            dropped.append(s.id)
    if len(keep) < MIN_RUNNERS:
        raise DemoError(
            f"only {len(keep)} of {len(manifest.subjects)} runners have FE labels (see the failed "
            f"trials above); the demo needs {MIN_RUNNERS}: pass a larger --runners"
        )
    if used.exists():
        shutil.rmtree(used)
    used.mkdir(parents=True)
    for s in keep:
        os.symlink(os.path.relpath(cohort / s.id, used), used / s.id)
    mf.save_manifest(manifest.model_copy(update={"subjects": keep}), used)
    return {"dir": str(used), "runners": [s.id for s in keep], "dropped": dropped,
            "n_trials": sum(len(s.trials) for s in keep)}  # fmt: skip


def new_runner_spec(spec: Any) -> Any:
    """One runner with one trial, drawn from ``spec`` with another seed."""
    return spec.model_copy(update={"seed": spec.seed + NEW_SEED_OFFSET, "n_runners": 1,
                                   "trials": 1})  # fmt: skip


def rename_runner(cohort: Path, new_id: str) -> Any:
    """Give the cohort's only runner the id ``new_id`` (manifest and trial specs); its files
    stay where they are. Returns the manifest's subject."""
    from footdt.cohort import manifest as mf

    m = mf.load_manifest(cohort)
    (s,) = m.subjects
    for t in s.trials:
        p = cohort / t.spec
        text = p.read_text()
        if f"\nid: {s.id}\n" not in text:
            raise DemoError(f"{p}: no `id: {s.id}` line to rename")
        p.write_text(text.replace(f"\nid: {s.id}\n", f"\nid: {new_id}\n", 1))
    renamed = s.model_copy(update={"id": new_id})
    mf.save_manifest(m.model_copy(update={"subjects": [renamed]}), cohort)
    return renamed


def write_recording_csv(imu_npz: Path, out: Path) -> dict[str, Any]:
    """A trial's whole synthetic recording as a CSV like a real sensor export: ``time_s`` and
    the six accelerations ``foot_ax .. tibia_az`` (m/s^2)."""
    from footdt.cohort.generate import save_recording_csv

    with np.load(imu_npz) as z:
        data = np.asarray(z["recording"])
        rate = float(z["recording_rate_hz"])
    save_recording_csv(out, data, rate)
    return {"csv": str(out), "rate_hz": rate, "duration_s": round(len(data) / rate, 3),
            "columns": ["time_s", *RECORDING_COLUMNS]}  # fmt: skip


def static_values(subject: Any, trial: Any) -> dict[str, float]:
    """The static inputs a run may use, from a manifest subject and trial (kg, m, mm, m/s)."""
    out = {"body_mass": subject.body_mass_kg, "height": subject.height_m}
    if subject.foot_length_mm is not None:
        out["foot_length"] = subject.foot_length_mm
    if trial.speed_m_s is not None:
        out["speed"] = trial.speed_m_s
    return out


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())
