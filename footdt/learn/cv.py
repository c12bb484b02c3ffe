"""Nested leave-one-subject-out cross-validation with baselines, written to a run directory.

For each held-out subject: the three baselines are fitted on the other subjects; if the spec has
a search space, Optuna tunes inside the other subjects only (``tune``), once per fold or, with
``validation.tuning_blocks``, once per block of held-out subjects on the subjects outside the
block (``tune_blocks``: still never on a held-out subject, at a fraction of the cost); the network is trained
once per seed on the other subjects (scalers fitted there) and predicts the held-out subject, whose
labels are read only when predictions are written; per-sensor permutation predictions and
attention weights are recorded; ``leakage.assert_no_leakage`` checks the fold before moving on.
Model predictions are the mean over seeds. Folds are independent, so ``RunOptions.workers``
processes can train them side by side (``fold_workers``); the files are the same as from one
process. ``on_event(kind, info)`` reports progress (kinds: start, block_done, fold_start, trial,
fold_done, done; trials only from a run tuned per fold, which uses one process; block_done from
a run tuned per block, whose blocks and folds use the workers).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from footdt.learn.architectures import resolve_hyperparameters
from footdt.learn.baselines import RidgeBaseline, fit_baselines, predict_baselines
from footdt.learn.dataset import Dataset
from footdt.learn.folds import Fold, grouped_kfold, loso_folds
from footdt.learn.interpret import input_groups, permutation_plan, permuted_inputs
from footdt.learn.leakage import assert_no_leakage
from footdt.learn.rundir import RUN_FORMAT, RUN_VERSION, long_predictions, write_csv, write_json

if TYPE_CHECKING:
    from footdt.spec.experiment import ExperimentSpec

Event = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class RunOptions:
    storage: str | None = None  # Optuna storage URL: nested tuning resumable per fold
    max_folds: int | None = None  # run only the first N folds (quick checks; run.json says so)
    save_models: bool = True
    source_spec: Path | None = None  # copied to experiment.yaml
    store: str = ""
    cohort: str = ""
    workers: int = 1  # folds trained in parallel processes (one TensorFlow thread each)


def study_name(spec: ExperimentSpec, scope: str) -> str:
    return f"{spec.id}.{spec.model.architecture}.{scope}"


def _fold_rmse(ds: Dataset, rows: np.ndarray, pred: np.ndarray) -> float:
    """Mean over targets of the RMSE (MPa) on the rows (for the live table only)."""
    return float(np.mean(np.sqrt(np.mean((pred - ds.Y[rows]) ** 2, axis=0))))


#: What a fold record keeps of a tuning study (``tune.TuneResult``).
TUNING_KEYS = ("study_name", "best_params", "best_value", "n_complete", "n_pruned", "n_failed",
               "subjects_seen", "inner_splits")  # fmt: skip


def tuning_blocks(ds: Dataset, k: int, seed: int) -> list[tuple[list[str], list[str]]]:
    """(subjects tuned on, block of held-out subjects) per block: ``k`` subject-grouped blocks
    (``grouped_kfold`` of every subject with ``seed``); each subject is in exactly one block."""
    return grouped_kfold(ds.subjects, k, seed)


def _tune_block(
    spec: ExperimentSpec, ds: Dataset, index: int, tune_on: list[str], block: list[str], out: Path,
    storage: str | None, emit: Event,
) -> dict[str, Any]:  # fmt: skip
    """Tune on ``tune_on`` (never a subject of ``block``); the tuning record of the block's folds."""
    from footdt.learn.tune import tune

    res = tune(spec, ds, tune_on, n_trials=spec.validation.inner_trials, storage=storage,
               study_name=study_name(spec, f"block-{index}"),
               on_trial=lambda row: emit("trial", {"fold": f"block {index}", **row}))  # fmt: skip
    write_json(out / "tuning" / f"block_{index:02d}.json", res.trials)
    return {"block": index, "block_subjects": block, **{k: getattr(res, k) for k in TUNING_KEYS}}


def _block_storage(out: Path, index: int, storage: str | None) -> str:
    """The block's Optuna storage: the run's own SQLite file per block (blocks are tuned in
    parallel processes, and SQLite takes one writer), or the URL given with ``--storage``."""
    return storage or f"sqlite:///{(out / 'tuning' / f'block_{index:02d}.db').resolve()}"


def _block_job(
    spec: ExperimentSpec, ds: Dataset, index: int, tune_on: list[str], block: list[str], out: Path,
    storage: str | None,
) -> dict[str, Any]:  # fmt: skip
    return _tune_block(spec, ds, index, tune_on, block, out, storage, lambda _k, _i: None)


def blocks_to_tune(
    spec: ExperimentSpec, ds: Dataset, held_out: set[str]
) -> list[tuple[int, list[str], list[str]]]:
    """(index, subjects tuned on, block) of every block (``tuning_blocks``) that holds one of
    the ``held_out`` subjects (a run of the first few folds tunes only their blocks)."""
    k = spec.validation.tuning_blocks
    assert k is not None
    blocks = tuning_blocks(ds, k, spec.validation.seeds[0])
    return [(i, on, blk) for i, (on, blk) in enumerate(blocks) if held_out & set(blk)]


def tune_blocks(
    spec: ExperimentSpec, ds: Dataset, out: Path, opts: RunOptions, emit: Event,
    blocks: list[tuple[int, list[str], list[str]]],
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The study of each of ``blocks`` (``blocks_to_tune``), in ``opts.workers`` processes when
    each block has its own SQLite file; the tuning record of each held-out subject's block."""
    jobs = [(i, on, blk, _block_storage(out, i, opts.storage)) for i, on, blk in blocks]
    records: list[dict[str, Any]] = []
    workers = 1 if opts.storage else fold_workers(spec, opts.workers, len(jobs))
    if workers == 1:
        from footdt.learn.runtime import setup_tensorflow

        setup_tensorflow(deterministic=spec.validation.deterministic)
        for i, on, blk, st in jobs:
            records.append(_tune_block(spec, ds, i, on, blk, out, st, emit))
            emit("block_done", {"block": i, "n_blocks": len(jobs), "tuning": records[-1]})
    else:
        with _pool(spec, workers) as pool:
            futs = {
                pool.submit(_block_job, spec, ds, i, on, blk, out, st): i for i, on, blk, st in jobs
            }
            from concurrent.futures import as_completed

            for fut in as_completed(futs):
                records.append(fut.result())
                emit(
                    "block_done",
                    {"block": futs[fut], "n_blocks": len(jobs), "tuning": records[-1]},
                )
    records.sort(key=lambda r: r["block"])
    write_json(out / "tuning" / "blocks.json", records)
    return {s: r for r in records for s in r["block_subjects"]}


def run_fold(
    spec: ExperimentSpec, ds: Dataset, fold: Fold, out: Path, perm: np.ndarray, opts: RunOptions,
    emit: Event, tuned: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One outer fold; returns its record and prediction frames (written by ``run_loso``).
    ``tuned``: the tuning record of the fold's block (``tune_blocks``) instead of a study here."""
    from footdt.learn.trainer import fold_arrays, predict, scale_inputs, train_and_predict
    from footdt.learn.tune import tune

    t0 = time.perf_counter()
    val = spec.validation
    train_subjects = fold.train_subjects(ds)
    test = fold.test_rows
    fitted = fit_baselines(ds.ridge_features, ds.Y, ds.body_mass_kg, ds.subject, fold.train_rows,
                           alphas=val.ridge_alphas, seed=val.seeds[0])  # fmt: skip
    frames = [
        long_predictions(ds, test, p, name, fold.index)
        for name, p in predict_baselines(
            fitted, ds.ridge_features[test], ds.body_mass_kg[test]
        ).items()
    ]
    given, tuning = dict(spec.model.hyperparameters), None
    if tuned is not None:
        given.update(tuned["best_params"])
        tuning = tuned
    elif spec.model.search_space:
        res = tune(spec, ds, train_subjects, n_trials=val.inner_trials, storage=opts.storage,
                   study_name=study_name(spec, f"loso-{fold.held_out}"),
                   on_trial=lambda row: emit("trial", {"fold": fold.index, **row}))  # fmt: skip
        given.update(res.best_params)
        tuning = {k: getattr(res, k) for k in TUNING_KEYS}
        write_json(out / "tuning" / f"fold_{fold.index:02d}.json", res.trials)
    hp = resolve_hyperparameters(given)
    preds, perm_frames, att_frames, scalers = [], [], [], None
    stopping: list[dict[str, Any]] = []
    for k, seed in enumerate(val.seeds):
        res_t = train_and_predict(spec, ds, fold.train_rows, test, hp, seed=seed, score=False)
        preds.append(res_t.pred_mpa)
        h = res_t.history
        stopping.append({"seed": seed, "subjects": list(res_t.stop_subjects),
                         "epochs_run": len(h.train_loss), "best_epoch": h.best_epoch,
                         "shrinkage": h.shrinkage,
                         "readout_rows": None if res_t.readout is None else res_t.readout.rows.tolist(),
                         "readout_alpha": None if res_t.readout is None else res_t.readout.alpha.tolist()})  # fmt: skip
        curve = _curve_frame(h)
        name = f"fold_{fold.index:02d}_{fold.held_out}_seed{seed}"
        write_csv(out / "curves" / f"{name}.csv", curve)
        write_tensorboard(out / "tensorboard" / name, curve)
        if opts.save_models:
            res_t.model.save(
                out / "models" / f"fold_{fold.index:02d}_{fold.held_out}_seed{seed}.keras"
            )
        if k:
            continue
        scalers = res_t.scalers
        for group, cols in input_groups(ds.channels, ds.static_names).items():
            for r in range(len(perm)):
                x, s = permuted_inputs(ds.X, ds.static, test, perm[r, test], cols)
                p = scalers.to_mpa(
                    predict(res_t.model, scale_inputs(scalers, x, s)), ds.body_mass_kg[test]
                )
                perm_frames.append(
                    long_predictions(ds, test, p, "model", fold.index, permuted=group, repeat=r)
                )
        if spec.model.architecture == "lstm_attention":
            from footdt.learn.interpret import attention_weights

            arr = fold_arrays(ds, test, scalers, labels=False)
            w = attention_weights(res_t.model, arr.inputs(), ds.X.shape[1])
            att_frames.append((test, w))
    assert scalers is not None
    frames.append(long_predictions(ds, test, np.mean(preds, axis=0), "model", fold.index))
    ridge = fitted["ridge"]
    assert isinstance(ridge, RidgeBaseline)
    record = {
        "fold": fold.index,
        "held_out": fold.held_out,
        "train_subjects": train_subjects,
        "train_rows": fold.train_rows.tolist(),
        "test_rows": test.tolist(),
        "hyperparameters": hp,
        "tuning": tuning,
        "domain_adaptation": spec.model.domain_adaptation,
        "unlabelled_target_subjects": [fold.held_out] if spec.model.domain_adaptation == "transductive" else [],
        "baseline_rows": {name: b.rows.tolist() for name, b in fitted.items()},
        "baseline_values": {"mean": fitted["mean"].value.tolist(),  # type: ignore[union-attr]
                            "body_mass": fitted["body_mass"].per_kg.tolist()},  # type: ignore[union-attr]
        "ridge_alpha": dict(zip(ds.targets, ridge.alpha.tolist(), strict=True)),
        "target_scaling": spec.model.target_scaling,
        "readout": spec.model.readout,
        "early_stopping": stopping,
        "seconds": round(time.perf_counter() - t0, 2),
    }  # fmt: skip
    arrays = scalers.as_arrays()
    np.savez(out / "scalers" / f"fold_{fold.index:02d}.npz", **cast(dict[str, Any], arrays))
    assert_no_leakage(ds, record, arrays)
    return {"record": record, "frames": frames, "perm": perm_frames, "attention": att_frames}


def run_loso(
    spec: ExperimentSpec,
    ds: Dataset,
    out_dir: str | Path,
    *,
    options: RunOptions | None = None,
    on_event: Event | None = None,
) -> dict[str, Any]:
    """Run the nested LOSO of ``spec`` on ``ds`` into ``out_dir``; return the run.json content."""
    import pandas as pd

    from footdt.learn.runtime import setup_tensorflow, versions

    opts = options or RunOptions()
    emit: Event = on_event or (lambda _k, _i: None)
    out = Path(out_dir)
    for sub in ("models", "scalers", "tuning", "curves"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    blocked = bool(spec.model.search_space and spec.validation.tuning_blocks)
    if spec.model.search_space and opts.storage is None and not blocked:  # kept with the run
        from dataclasses import replace

        opts = replace(opts, storage=f"sqlite:///{(out / 'optuna.db').resolve()}")
    folds = loso_folds(ds)
    if opts.max_folds is not None:
        folds = folds[: opts.max_folds]
    workers = fold_workers(spec, opts.workers, len(folds))
    if workers == 1:  # else only the fold workers need TensorFlow
        setup_tensorflow(deterministic=spec.validation.deterministic)
    run: dict[str, Any] = {
        "format": RUN_FORMAT, "version": RUN_VERSION, "status": "running",
        "experiment": spec.id, "architecture": spec.model.architecture,
        "domain_adaptation": spec.model.domain_adaptation, "domain_key": spec.model.domain_key,
        "tuned": bool(spec.model.search_space), "inner_trials": spec.validation.inner_trials,
        "tuning_blocks": spec.validation.tuning_blocks if blocked else None,
        "seeds": spec.validation.seeds, "targets": list(ds.targets), "peak_stat": spec.peak_stat,
        "samples": spec.inputs.samples, "channels": list(ds.channels), "static": list(ds.static_names),
        "target_scaling": spec.model.target_scaling, "readout": spec.model.readout,
        "early_stopping_patience": spec.validation.early_stopping_patience,
        "optuna_storage": opts.storage if (opts.storage or "sqlite").startswith("sqlite")
        else "--storage (URL not recorded: it may hold a password)",
        "label_backend": ds.label_backend, "store": opts.store, "cohort": opts.cohort,
        "dataset_hash": ds.content_hash(), "n_subjects": len(ds.subjects), "n_samples": ds.n,
        "n_folds": len(folds), "fold_workers": workers, "partial": len(folds) < len(ds.subjects),
        "deterministic": spec.validation.deterministic, "versions": versions(),
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    write_json(out / "experiment.json", spec.model_dump(mode="json"))
    if opts.source_spec is not None:
        shutil.copyfile(opts.source_spec, out / "experiment.yaml")
    write_json(out / "run.json", run)
    perm = permutation_plan(ds.n, spec.validation.permutation_repeats, spec.validation.seeds[0])
    blocks = blocks_to_tune(spec, ds, {f.held_out for f in folds}) if blocked else []
    emit("start", {"n_folds": len(folds), "architecture": spec.model.architecture,
                   "domain_adaptation": spec.model.domain_adaptation,
                   "n_blocks": len(blocks)})  # fmt: skip
    done: dict[int, dict[str, Any]] = {}
    t0 = time.perf_counter()
    tuned = tune_blocks(spec, ds, out, opts, emit, blocks) if blocked else None
    for fold, res in _fold_results(spec, ds, folds, out, perm, opts, emit, tuned):
        done[fold.index] = res
        write_json(out / "folds.json", [done[i]["record"] for i in sorted(done)])
        last = {f["predictor"].iloc[0]: f for f in res["frames"]}
        emit("fold_done", {"fold": fold.index, "held_out": fold.held_out, "seconds": res["record"]["seconds"],
                           "tuning": res["record"]["tuning"],
                           "rmse": {k: float(np.sqrt(np.mean((f.pred_mpa - f.true_mpa) ** 2))) for k, f in last.items()}})  # fmt: skip
    frames, perm_frames, att = [], [], []
    for i in sorted(done):  # fold order, whatever order they finished in
        frames += done[i]["frames"]
        perm_frames += done[i]["perm"]
        att += done[i]["attention"]
    write_csv(out / "predictions.csv", pd.concat(frames, ignore_index=True))
    if perm_frames:
        write_csv(out / "permutation.csv", pd.concat(perm_frames, ignore_index=True))
    if att:
        write_csv(out / "attention.csv", _attention_frame(ds, att))
    run.update(status="complete", seconds=round(time.perf_counter() - t0, 1),
               finished_utc=datetime.now(UTC).isoformat(timespec="seconds"))  # fmt: skip
    write_json(out / "run.json", run)
    emit("done", {"seconds": run["seconds"], "out": str(out)})
    return run


def fold_workers(spec: ExperimentSpec, requested: int, n_folds: int) -> int:
    """How many processes train folds: ``requested`` (0: one per core this process may use, as
    ``footdt run`` counts them), never more than the folds, and one when the spec tunes per fold
    (each fold's Optuna study streams its trials to the progress display and shares one SQLite
    file; a spec tuned per block tunes its blocks first)."""
    from footdt.pipeline.plan import available_cores

    if spec.model.search_space and not spec.validation.tuning_blocks:
        return 1
    return max(1, min(requested or available_cores(), n_folds))


def _pool(spec: ExperimentSpec, workers: int) -> Any:
    """``workers`` fresh (spawned) processes set up by ``_init_worker``."""
    import multiprocessing as mp
    import os
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                               initargs=(spec.validation.deterministic, os.getpid()))  # fmt: skip


def _init_worker(deterministic: bool, parent: int) -> None:
    """A fold worker: TensorFlow imported quietly with one thread per pool (the networks are
    small; the parallelism is across folds). It exits when the process that started it is gone
    (killed: a pool worker would otherwise wait for work forever)."""
    import os
    import threading

    from footdt.cli.quiet import import_tensorflow
    from footdt.learn.runtime import setup_tensorflow

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="footdt-parent-watch", daemon=True).start()
    import_tensorflow()
    setup_tensorflow(deterministic=deterministic, threads=1)


def _fold_job(
    spec: ExperimentSpec, ds: Dataset, fold: Fold, out: Path, perm: np.ndarray, opts: RunOptions,
    tuned: dict[str, Any] | None,
) -> dict[str, Any]:  # fmt: skip
    return run_fold(spec, ds, fold, out, perm, opts, lambda _k, _i: None, tuned)


def _fold_results(
    spec: ExperimentSpec, ds: Dataset, folds: list[Fold], out: Path, perm: np.ndarray,
    opts: RunOptions, emit: Event, tuned: dict[str, dict[str, Any]] | None = None,
) -> Iterator[tuple[Fold, dict[str, Any]]]:  # fmt: skip
    """Each fold and its ``run_fold`` result as it finishes: in this process one after the
    other, or with ``opts.workers`` > 1 in that many fresh processes (spawned: no TensorFlow or
    solver state inherited), each fold's result the same as in this process."""
    workers = fold_workers(spec, opts.workers, len(folds))
    if workers == 1:
        for fold in folds:
            emit("fold_start", {"fold": fold.index, "held_out": fold.held_out})
            yield fold, run_fold(spec, ds, fold, out, perm, opts, emit, _of(tuned, fold))
        return
    from concurrent.futures import FIRST_COMPLETED, wait

    pool = _pool(spec, workers)
    try:
        queue, running = list(folds), dict[Any, Fold]()
        while queue or running:
            while queue and len(running) < workers:  # submit as workers free up: honest fold_start
                fold = queue.pop(0)
                emit("fold_start", {"fold": fold.index, "held_out": fold.held_out})
                running[
                    pool.submit(_fold_job, spec, ds, fold, out, perm, opts, _of(tuned, fold))
                ] = fold
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                yield running.pop(fut), fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _of(tuned: dict[str, dict[str, Any]] | None, fold: Fold) -> dict[str, Any] | None:
    return None if tuned is None else tuned[fold.held_out]


def _curve_frame(h: Any) -> Any:
    """One training's loss per epoch (standardised targets): training rows, the early-stopping
    runners when there are any, and the domain classifier's loss when adapting."""
    import pandas as pd

    n = len(h.train_loss)
    cols: dict[str, Any] = {"epoch": np.arange(1, n + 1), "train_loss": h.train_loss}
    if h.stop_loss:
        cols["stop_loss"] = h.stop_loss[:n]
    if any(h.domain_loss):
        cols["domain_loss"] = h.domain_loss
    return pd.DataFrame(cols)


def write_tensorboard(logdir: Path, curve: Any) -> bool:
    """The loss curves of ``curve`` (``_curve_frame``) as TensorBoard scalars in ``logdir``, when
    the ``tensorboard`` package is installed (TensorFlow's summary writer needs it); returns
    whether it wrote. ``tensorboard --logdir RUN/tensorboard`` shows every fold and seed."""
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        return False
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        for col in curve.columns.drop("epoch"):
            for epoch, value in zip(curve["epoch"], curve[col], strict=True):
                tf.summary.scalar(f"loss/{col}", float(value), step=int(epoch))
    writer.close()
    return True


def _attention_frame(ds: Dataset, att: list[tuple[np.ndarray, np.ndarray]]) -> Any:
    """Mean attention weight per subject, trial and input sample (strides averaged)."""
    import pandas as pd

    parts = []
    for rows, w in att:
        n, t = w.shape
        parts.append(pd.DataFrame({"subject": np.repeat(ds.subject[rows], t),
                                   "trial": np.repeat(ds.trial[rows], t),
                                   "sample": np.tile(np.arange(t), n), "weight": w.reshape(-1)}))  # fmt: skip
    frame = pd.concat(parts, ignore_index=True)
    return frame.groupby(["subject", "trial", "sample"], sort=False, as_index=False)[
        "weight"
    ].mean()
