"""``run_demo``: every stage in order, each skipped when its inputs have not changed.

Stages and what decides whether they run again (``OUT/demo-state.json``; the FE stages keep
their per-trial state in the label store, as ``footdt run`` does):

1. verification: closed-form checks (footdt version, backends available);
2. cohort: ``footdt cohort generate`` (cohort spec after the overrides, subject template at
   ``--size``); a changed cohort removes the old cohort's FE models and labels first;
3. fe: ``footdt run`` of every trial (per trial: spec, backend version, profile), then the
   runners with labels become the training cohort;
4. pictures: stress pictures of one rearfoot and one non-rearfoot runner (their results files);
5. train: ``footdt train`` (experiment and data set hash);
6. evaluate: ``footdt evaluate`` (the run);
7. new runner: one runner from the cohort spec with another seed, its recording as CSV;
8. predict: ``footdt predict`` on that recording (run, recording);
9. truth: the new runner's own FE solve, compared with the prediction;
10. report: the HTML page (everything above).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from footdt.demo.options import DemoError, DemoOptions
from footdt.demo.state import DemoState, digest, file_digest
from footdt.demo.ui import DemoUi

N_STAGES = 10
LOCK = ".footdt-demo.lock"


class Paths:
    """Where each stage writes, under ``OUT``."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.template = out / "template.yaml"  # the subject template at --size
        self.cohort = out / "cohort"
        self.fe = out / "fe"  # footdt run's run directory
        self.store = out / "labels.db"
        self.solved = out / "cohort_solved"  # runners with labels (symlinks + manifest)
        self.pictures = out / "pictures"
        self.experiment = out / "experiment.yaml"
        self.run = out / "run"
        self.verification = out / "verification"
        self.new = out / "new"
        self.new_cohort = out / "new" / "cohort"
        self.new_fe = out / "new" / "fe"
        self.new_store = out / "new" / "labels.db"
        self.recording = out / "new" / "recording.csv"
        self.prediction = out / "new" / "prediction.csv"
        self.report = out / "report.html"
        self.summary = out / "summary.json"


@dataclass
class Demo:
    opts: DemoOptions
    ui: DemoUi
    paths: Paths
    state: DemoState
    keys: dict[str, str] = field(default_factory=dict)
    timings: list[dict[str, Any]] = field(default_factory=list)

    def stage(self, name: str, title: str, key: str | None, outputs: list[Path],
              make: Callable[[], Any], line: Callable[[Any], str]) -> Any:  # fmt: skip
        """Run ``make`` unless ``name`` is recorded done under ``key`` with ``outputs`` present
        (``key`` None: always run; ``make`` returns (summary, up_to_date))."""
        self.ui.stage(title)
        t0 = time.perf_counter()
        summary = None if key is None else self.state.summary(name, key, outputs)
        status = "up_to_date"
        if summary is None:
            summary = make()
            if key is None:
                summary, fresh = summary
                status = "up_to_date" if fresh else "done"
            else:
                status = "done"
                self.state.record(name, key, summary, time.perf_counter() - t0)
        if key is not None:
            self.keys[name] = key
        wall = time.perf_counter() - t0
        self.ui.finished(status, wall, line(summary))
        self.timings.append({"stage": name, "status": status, "wall_time_s": round(wall, 2)})
        return summary


def _locked(out: Path) -> contextlib.AbstractContextManager[None]:
    """One demo per output directory at a time."""
    from footdt.fileio import exclusive_lock

    busy = f"{out} is in use by another `footdt demo`; wait for it or pass another --out"
    return exclusive_lock(out / LOCK, busy, DemoError)


def _forget_cohort(d: Demo) -> None:
    """Remove what was made from another cohort (FE models, labels, new runner, run)."""
    p = d.paths
    for path in (p.cohort, p.fe, p.solved, p.pictures, p.new, p.run):
        if path.is_dir():
            shutil.rmtree(path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{p.store}{suffix}").unlink(missing_ok=True)
    d.state.forget("cohort", "pictures", "train", "evaluate", "new_runner", "predict", "report")


def run_demo(opts: DemoOptions, ui: DemoUi) -> dict[str, Any]:
    """Run the demo into ``opts.out``; returns the summary (also ``OUT/summary.json``)."""
    opts.check()
    opts.out.mkdir(parents=True, exist_ok=True)
    with _locked(opts.out):
        return _run(Demo(opts, ui, Paths(opts.out), DemoState(opts.out)))


def _run(d: Demo) -> dict[str, Any]:
    from footdt import __version__
    from footdt.demo import data, fe, learn, twin
    from footdt.demo.verification import backends_to_check, run_verification

    t_start = time.perf_counter()
    p, opts, ui = d.paths, d.opts, d.ui
    s: dict[str, Any] = {"out": str(opts.out), "options": opts.as_dict()}
    workers = opts.n_workers()

    # 1. verification
    if opts.verify:
        backends, why = backends_to_check()
        if why:
            ui.warn(f"CalculiX skipped: {why}")
        s["verification"] = d.stage(
            "verification", "closed-form checks of the open solvers", digest(__version__, backends),
            [p.verification / "labels.db"], lambda: run_verification(p.verification, backends, ui),
            lambda v: f"{len(v['checks'])} checks, largest error {100 * (v['max_rel_error'] or 0):.3f} %"
            + ("" if v["comparison"] is None else f"; SfePy vs CalculiX {'agree' if v['comparison']['ok'] else 'DISAGREE'}"),
        )  # fmt: skip
    else:
        s["verification"] = None

    # 2. cohort
    spec = data.cohort_spec(opts)
    template_text = data.write_template(spec, opts.size, p.template)
    ckey = data.cohort_key(spec, template_text)
    old = d.state.stages.get("cohort", {}).get("key")
    if p.cohort.exists() and old != ckey:  # other settings, or a generation that did not finish
        ui.warn("the cohort in this directory is not the one asked for (other settings, or an "
                "interrupted demo): its cohort, FE models and labels are made again")  # fmt: skip
        _forget_cohort(d)

    def make_cohort() -> dict[str, Any]:
        with ui.bar("generating runners", total=spec.n_runners * spec.trials) as update:
            data.generate_cohort(spec, p.template, p.cohort, update)
        return data.cohort_facts(p.cohort)

    s["cohort"] = d.stage(
        "cohort", f"synthetic cohort ({spec.n_runners} runners x {spec.trials} trials)", ckey,
        [p.cohort / "manifest.json"], make_cohort,
        lambda c: f"{c['n_runners']} runners ({c['n_rearfoot']} rearfoot, {c['n_non_rearfoot']} "
                  f"non-rearfoot), {c['n_trials']} trials in {c['dir']}",
    )  # fmt: skip
    s["foot_model"] = getattr(spec, "foot_model", "template")

    # 3. FE of every trial, then the runners with labels
    def make_fe() -> tuple[dict[str, Any], bool]:
        warm = fe.warm_shape_cache(p.template, ui) if s["foot_model"] == "personalised" else None
        res = fe.solve_cohort(p.cohort, p.store, p.fe, workers, ui)
        res["shape_cache_s"] = None if warm is None else round(warm, 2)
        res["selected"] = data.select_solved(p.cohort, p.store, p.solved, fe.BACKEND)
        return res, res["counts"]["done"] == 0 and not res["failed"]

    s["fe"] = d.stage(
        "fe", f"FE models at {opts.size:g} mm: compile -> solve -> labels ({fe.BACKEND}, {workers} workers)",
        None, [], make_fe,
        lambda f: f"{f['counts']['done']} solved, {f['counts']['up_to_date']} up to date, "
                  f"{len(f['failed'])} failed; {len(f['selected']['runners'])} runners with labels",
    )  # fmt: skip
    s["selected"] = s["fe"].pop("selected")
    if s["fe"]["failed"]:
        ui.warn(f"{len(s['fe']['failed'])} trial(s) failed and are left out (reasons in the report "
                f"and in {p.fe}/logs); the rest go on")  # fmt: skip

    # 4. pictures and labels
    exp = learn.experiment(opts.experiment, opts.epochs)
    s["peak_stat"] = exp.peak_stat
    s["labels"] = fe.label_summary(p.store, s["selected"]["runners"], exp.peak_stat)
    shown = fe.picture_trials(p.solved)
    s["pictures"] = d.stage(
        "pictures", "stress pictures", fe.pictures_key(p.fe, shown),
        [p.pictures / f"{a}_{b}_{ph}.png" for a, b, _ in shown for ph in fe.PICTURE_PHASES],
        lambda: fe.render_pictures(p.fe, shown, p.pictures, ui),
        lambda pics: f"{len(pics)} pictures in {p.pictures}",
    )  # fmt: skip

    # 5. train, 6. evaluate
    from footdt.learn.dataset import load_dataset

    learn.write_experiment(exp, p.experiment)
    with ui.spinner("reading labels and IMU windows"):
        ds = load_dataset(exp, p.store, p.solved)
    tkey = learn.train_key(exp, ds)
    s["learning"] = d.stage(
        "train", f"learning: {exp.model.architecture}, leave-one-subject-out, with baselines "
        f"({workers} workers)", tkey,
        [p.run / "run.json"],
        lambda: learn.train(exp, p.experiment, ds, p.store, p.solved, p.run, ui, workers),
        lambda r: f"{r['n_subjects']} folds in {r['seconds']:.0f} s -> {r['run']}",
    )  # fmt: skip
    s["evaluation"] = d.stage(
        "evaluate", "evaluation against the baselines", tkey,
        [p.run / "evaluation" / "summary.json"], lambda: learn.evaluation(p.run),
        lambda e: f"model beats body mass on {e['model_beats']['body_mass']} of {e['n_targets']} "
                  f"targets, ridge on {e['model_beats']['ridge']}, the training mean on "
                  f"{e['model_beats']['mean']}",
    )  # fmt: skip

    # 7. the new runner, 8. predict, 9. its own FE solve
    nspec = data.new_runner_spec(spec)

    def make_new() -> dict[str, Any]:
        from footdt.cohort.generate import generate

        if p.new.exists():
            shutil.rmtree(p.new)
        generate(nspec, p.new_cohort, template=p.template)
        sub = data.rename_runner(p.new_cohort, data.NEW_ID)
        trial = sub.trials[0]
        rec = data.write_recording_csv(p.new_cohort / trial.imu, p.recording)
        return {"id": sub.id, "trial": trial.id, "group": sub.group, "seed": nspec.seed,
                "body_mass_kg": sub.body_mass_kg, "height_m": sub.height_m,
                "foot_length_mm": sub.foot_length_mm, "static": data.static_values(sub, trial),
                "recording": rec}  # fmt: skip

    s["new_runner"] = d.stage(
        "new_runner", "a new runner (same cohort spec, another seed) and its recording",
        digest(ckey, nspec.seed, data.NEW_ID), [p.recording, p.new_cohort / "manifest.json"],
        make_new,
        lambda n: f"{n['id']} ({n['group']}, {n['body_mass_kg']:.1f} kg): {n['recording']['csv']}",
    )  # fmt: skip
    new = s["new_runner"]
    pkey = digest(tkey, file_digest(p.recording), twin.LEVEL, twin.METHOD, new["static"])
    s["prediction"] = d.stage(
        "predict", "footdt predict on the new runner's recording", pkey,
        [p.prediction, p.prediction.with_suffix(".png"), p.prediction.with_suffix(".json")],
        lambda: twin.predict_new_runner(p.run, p.recording, new["static"], p.prediction, ui),
        lambda r: f"{r['n_strides']} strides, {r['ood']['n_flagged']} flagged OOD -> {r['out']}",
    )  # fmt: skip

    def make_truth() -> tuple[dict[str, Any] | None, bool]:
        from footdt.learn.dataset import resolve_targets

        res = fe.solve_cohort(p.new_cohort, p.new_store, p.new_fe, 1, ui)
        if res["failed"]:
            ui.warn(f"the new runner's FE solve failed ({res['failed'][0]['reason']}): "
                    "no truth to compare with")  # fmt: skip
            return None, False
        targets = resolve_targets(exp.targets, exp.peak_stat)
        labels = fe.trial_labels(p.new_store, new["id"], new["trial"], targets)
        return twin.compare_with_fe(s["prediction"], labels), res["counts"]["done"] == 0

    s["fe_check"] = d.stage(
        "truth", "the new runner's own FE solve: is it inside the intervals?", None, [], make_truth,
        lambda c: "no FE label" if c is None else
        f"FE label inside the {round(100 * c['level'])} % interval for {c['n_inside']} of "
        f"{c['n_targets']} targets",
    )  # fmt: skip

    # 10. report
    from footdt.demo.page import write_report

    rkey = digest(d.keys, s["fe"]["failed"], s["selected"], s["fe_check"], s["verification"])

    def make_report() -> dict[str, Any]:
        from footdt.cohort.show import cohort_figure
        from footdt.demo.figures import twin_figure

        with ui.spinner("drawing figures and writing the report"):
            fig = cohort_figure(p.cohort, p.pictures / "cohort.png")
            twin = twin_figure(s["prediction"], s["fe_check"], p.pictures / "twin.png")
            write_report(s, p.run, s["evaluation"], fig, p.report, twin)
        return {"html": str(p.report), "figures": [str(fig), str(twin)]}

    s["report"] = d.stage("report", "HTML report", rkey, [p.report], make_report,
                          lambda r: r["html"])["html"]  # fmt: skip
    s["stages"] = d.timings
    s["wall_time_s"] = round(time.perf_counter() - t_start, 1)
    s["summary_file"] = str(p.summary)
    from footdt.fileio import atomic_write

    text = json.dumps(s, indent=1, default=str)
    atomic_write(p.summary, lambda tmp: tmp.write_text(text + "\n"))
    return s
