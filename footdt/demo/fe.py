"""The finite-element stages: every trial of a cohort through ``footdt.pipeline`` (compile ->
solve -> labels with footdt's ``native`` backend, resumable, in parallel), pictures of solved
stress fields (``footdt.view.render_stress``) and a summary of the labels of the paper's 28
targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from footdt.demo.state import digest, file_digest
from footdt.demo.ui import DemoUi
from footdt.domain import INITIAL_CONTACT, MEAN, PUSH_OFF

#: The demo's FE path: footdt's own assembly + kept PARDISO factor (docs/backends.md); its labels
#: equal SfePy's (8.5e-10 relative on all 11,520 labels of the 30 x 2 demo cohort) at about a
#: quarter of the time (70 s vs 252 s for the 60 trials, 2 workers; docs/performance.md).
BACKEND = "native"
PICTURE_PHASES = (INITIAL_CONTACT, PUSH_OFF)


def _short(reason: str | None, n: int = 160) -> str:
    text = " ".join((reason or "").split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _warm(template: str) -> None:
    from footdt.spec.loader import load_spec

    options = load_spec(template).spec.mesh  # type: ignore[union-attr]
    from footdt.mesh.store import cached_template_mesh
    from footdt.shape.ssm import builtin_ssm

    builtin_ssm()
    cached_template_mesh(options)


def warm_shape_cache(template: Path, ui: DemoUi) -> float:
    """Build (or read) the built-in shape model and the template mesh at the template's mesh
    options once, before the workers start: on a first run every worker would otherwise build
    the same cache files at the same time. It runs in a child process, so that a crash inside
    the mesher costs a warning here (the workers then record what fails) rather than the demo.
    Returns the seconds it took."""
    import multiprocessing
    import time

    t0 = time.perf_counter()
    with ui.spinner("shape model and template mesh (built once, then cached)"):
        proc = multiprocessing.get_context("spawn").Process(target=_warm, args=(str(template),))
        proc.start()
        proc.join()
    if proc.exitcode != 0:
        ui.warn(f"building the shape model or the template mesh failed (exit code {proc.exitcode}); "
                "the FE stage will report what fails per trial")  # fmt: skip
    return time.perf_counter() - t0


def solve_cohort(cohort: Path, store: Path, out: Path, workers: int, ui: DemoUi) -> dict[str, Any]:
    """``footdt run COHORT --backend native --store STORE --out OUT --workers N --vtu`` (a ParaView
    ``native.pvd`` per trial, its phases as time steps); a trial that
    fails (e.g. a foot rejected by the mesh quality gate) is recorded and the others go on."""
    from footdt.pipeline.runner import RunOptions, run_cohort

    report = run_cohort(
        cohort, RunOptions(backend=BACKEND, store=str(store), out=out, workers=workers, vtu=True),
        reporter=ui.pipeline_reporter(f"{BACKEND} x{workers}"),
    )  # fmt: skip
    failed = [{"subject": o.subject, "trial": o.trial, "step": o.failed_step,
               "reason": _short(o.reason)} for o in report.outcomes if o.status == "failed"]  # fmt: skip
    ran = [o.wall_time_s for o in report.outcomes if o.status == "done"]
    return {"backend": BACKEND, "store": str(store), "out": str(out), "workers": workers,
            "threads_per_worker": report.threads, "counts": report.counts(),
            "n_trials": len(report.outcomes), "failed": failed,
            "median_trial_s": round(sorted(ran)[len(ran) // 2], 2) if ran else None,
            "wall_time_s": round(report.wall_time_s, 2)}  # fmt: skip


def picture_trials(cohort: Path) -> list[tuple[str, str, str]]:
    """(subject, trial, group) of the first runner of each strike group in a (solved) cohort."""
    from footdt.cohort.manifest import load_manifest

    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for s in load_manifest(cohort).subjects:
        if s.group not in seen:
            seen.add(s.group)
            out.append((s.id, s.trials[0].id, s.group))
    return out


def pictures_key(fe_dir: Path, trials: list[tuple[str, str, str]]) -> str:
    from footdt.results import results_path

    return digest([(s, t, g, file_digest(results_path(fe_dir / s / t, BACKEND)))
                   for s, t, g in trials], PICTURE_PHASES)  # fmt: skip


def render_pictures(
    fe_dir: Path, trials: list[tuple[str, str, str]], out: Path, ui: DemoUi
) -> list[dict[str, Any]]:
    """One PNG per trial and phase: the bones coloured by element von Mises stress (MPa)."""
    from footdt.ir import load_model
    from footdt.results import load_result
    from footdt.view import render_stress

    pics = []
    with ui.bar("stress pictures", total=len(trials) * len(PICTURE_PHASES)) as update:
        for subject, trial, group in trials:
            model = load_model(fe_dir / subject / trial)
            result = load_result(fe_dir / subject / trial, BACKEND)
            for phase in PICTURE_PHASES:
                path = out / f"{subject}_{trial}_{phase}.png"
                render_stress(model, result, phase, path)
                pics.append({"subject": subject, "trial": trial, "group": group, "phase": phase,
                             "png": str(path), "nodes": model.n_nodes,
                             "elements": model.n_elements})  # fmt: skip
                update(len(pics), detail=f"{subject} {phase}")
    return pics


def label_summary(store: Path, subjects: list[str], peak_stat: str) -> list[dict[str, Any]]:
    """Per paper target: the number of labelled trials of ``subjects`` and the median, min and
    max of their labels (MPa; ``peak`` reads ``peak_stat``)."""
    import numpy as np

    from footdt.domain import PAPER_TARGETS, target_name
    from footdt.labels import LabelStore

    with LabelStore(store) as st:
        rows = [r for r in st.query(backend=BACKEND) if r.subject in set(subjects)]
    by: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        by.setdefault((r.phase, r.bone, r.stat), []).append(r.value_mpa)
    out = []
    for phase, bone, kind in PAPER_TARGETS:
        v = np.asarray(by.get((phase, bone, MEAN if kind == MEAN else peak_stat), []), float)
        if len(v):
            out.append({"target": target_name(phase, bone, kind), "n": len(v),
                        "median_mpa": float(np.median(v)), "min_mpa": float(v.min()),
                        "max_mpa": float(v.max())})  # fmt: skip
    return out


def trial_labels(store: Path, subject: str, trial: str, targets: Any) -> dict[str, float]:
    """{target name: label (MPa)} of one trial for the run's targets (``TargetRef``)."""
    from footdt.labels import LabelStore

    with LabelStore(store) as st:
        rows = st.query(backend=BACKEND, subject=subject, trial=trial)
    value = {(r.phase, r.bone, r.stat): r.value_mpa for r in rows}
    return {t.name: value[(t.phase, t.bone, t.stat)] for t in targets
            if (t.phase, t.bone, t.stat) in value}  # fmt: skip
