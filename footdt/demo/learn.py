"""The learning stages: the demo's experiment (``specs/experiments/demo.yaml``, optionally with
another number of epochs) trained with leave-one-subject-out on the solved runners
(``footdt train``), then evaluated against the baselines (``footdt evaluate``)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from footdt.demo.state import digest
from footdt.demo.ui import DemoUi


def quiet_tensorflow() -> None:
    """Import TensorFlow without its start-up chatter on stderr (CUDA probing, oneDNN notes,
    absl's pre-initialisation lines, which no log level switches off) and keep its Python
    logger to errors. The chatter is replayed if the import fails."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            import tensorflow as tf
        except BaseException:
            os.dup2(saved, 2)
            tmp.seek(0)
            sys.stderr.write(tmp.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    tf.get_logger().setLevel("ERROR")


def experiment(path: Path, epochs: int | None) -> Any:
    """The experiment spec at ``path``, with ``epochs`` replaced when given."""
    from footdt.errors import SpecError
    from footdt.spec.experiment import ExperimentSpec
    from footdt.spec.loader import load_spec

    spec = load_spec(path).spec
    if not isinstance(spec, ExperimentSpec):
        raise SpecError(f"{path}: the demo needs an experiment spec, not kind {spec.kind!r}")
    if epochs is None:
        return spec
    hp = {**spec.model.hyperparameters, "epochs": epochs}
    return spec.model_copy(update={"model": spec.model.model_copy(update={"hyperparameters": hp})})


def write_experiment(spec: Any, path: Path) -> None:
    """The effective experiment as YAML (``footdt train`` on it repeats the demo's run)."""
    import yaml

    text = "# the experiment footdt demo trained (footdt train reads this file)\n" + yaml.safe_dump(
        spec.model_dump(mode="json", exclude_none=True), sort_keys=False
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def train_key(spec: Any, dataset: Any) -> str:
    return digest(spec.model_dump(mode="json"), dataset.content_hash())


def train(
    spec: Any, spec_path: Path, dataset: Any, store: Path, cohort: Path, run_dir: Path, ui: DemoUi,
    workers: int = 1,
) -> dict[str, Any]:  # fmt: skip
    """``footdt train --workers N``: nested LOSO with the baselines into ``run_dir`` (replaced),
    folds trained in ``workers`` processes."""
    quiet_tensorflow()
    from footdt.learn.cv import RunOptions, run_loso

    if run_dir.exists():
        shutil.rmtree(run_dir)
    opts = RunOptions(source_spec=spec_path, store=str(store.resolve()),
                      cohort=str(cohort.resolve()), workers=workers)  # fmt: skip
    n = len(dataset.subjects)
    with ui.bar(f"LOSO {spec.model.architecture}", total=n) as update:
        done = [0]

        def event(kind: str, info: dict[str, Any]) -> None:
            if kind == "fold_start":
                update(done[0], detail=f"holding out {info['held_out']}")
            elif kind == "fold_done":
                done[0] += 1
                rmse = info["rmse"]
                update(done[0], detail=f"{info['held_out']}: RMSE model {rmse.get('model', 0):.2f}, "
                                       f"body mass {rmse.get('body_mass', 0):.2f} MPa")  # fmt: skip

        run = run_loso(spec, dataset, run_dir, options=opts, on_event=event)
    return {"run": str(run_dir), "experiment": run["experiment"],
            "architecture": run["architecture"], "epochs": spec.model.hyperparameters.get("epochs"),
            "n_subjects": run["n_subjects"], "n_samples": run["n_samples"],
            "static": run["static"], "tuned": run["tuned"], "seconds": run["seconds"]}  # fmt: skip


def evaluation(run_dir: Path) -> dict[str, Any]:
    """``footdt evaluate``: the summary the demo keeps (wins against each baseline, median
    per-subject RMSE per predictor) and the full summary file."""
    import numpy as np

    from footdt.evaluate.run import evaluate_run
    from footdt.learn.baselines import BASELINES

    s = evaluate_run(run_dir)
    rmse = {}
    for pr in ("model", *BASELINES):
        vals = [t[pr]["rmse_subject_mean"] for t in s["targets"] if pr in t]
        rmse[pr] = round(float(np.median(vals)), 4) if vals else None
    from footdt.demo.summary import verdict_line

    out = {"n_targets": s["n_targets"], "n_subjects": s["n_subjects"], "n_trials": s["n_trials"],
           "model_beats": s["model_beats"], "median_target_rmse_mpa": rmse,
           "domain_adaptation": s["domain_adaptation"],
           "summary": str(run_dir / "evaluation" / "summary.json")}  # fmt: skip
    out["verdict"] = verdict_line({"evaluation": out})
    return out
