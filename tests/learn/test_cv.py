"""A nested LOSO run writes everything needed to reproduce and evaluate it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from footdt.learn.cv import RunOptions, run_loso
from footdt.learn.dataset import Dataset, load_dataset
from footdt.learn.leakage import check_fold
from tests.learn.conftest import QUICK_TARGETS, tiny_spec
from tests.learn.synthetic import Synthetic


@pytest.fixture(scope="module")
def tuned_run(
    tiny_cohort: Synthetic, tmp_path_factory: pytest.TempPathFactory, tf_ready: object
) -> tuple[Path, Dataset]:
    spec = tiny_spec(architecture="lstm_attention", static_features=["body_mass"],
                     search_space={"learning_rate": {"low": 1e-3, "high": 1e-2, "log": True}},
                     validation={"seeds": [0, 1], "permutation_repeats": 2, "inner_trials": 1})  # fmt: skip
    ds = load_dataset(spec, tiny_cohort.store, tiny_cohort.cohort)
    out = tmp_path_factory.mktemp("run") / "run"
    events: list[str] = []
    run_loso(
        spec, ds, out, options=RunOptions(max_folds=2), on_event=lambda k, _i: events.append(k)
    )
    assert events[0] == "start" and events[-1] == "done" and events.count("fold_done") == 2
    assert events.count("trial") == 2  # 1 inner trial per fold
    return out, ds


def test_run_directory_is_complete(tuned_run: tuple[Path, Dataset]) -> None:
    out, _ = tuned_run
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "complete" and run["partial"] and run["n_folds"] == 2
    assert run["domain_adaptation"] == "none" and run["tuned"] and run["seeds"] == [0, 1]
    assert {"tensorflow", "keras", "optuna", "numpy"} <= set(run["versions"])
    assert json.loads((out / "experiment.json").read_text())["id"] == "tiny"
    models = sorted(p.name for p in (out / "models").glob("*.keras"))
    assert models == ["fold_00_S01_seed0.keras", "fold_00_S01_seed1.keras",
                      "fold_01_S02_seed0.keras", "fold_01_S02_seed1.keras"]  # fmt: skip
    assert sorted(p.name for p in (out / "scalers").glob("*.npz")) == ["fold_00.npz", "fold_01.npz"]
    trials = json.loads((out / "tuning" / "fold_00.json").read_text())
    assert len(trials) == 1 and "learning_rate" in trials[0]["params"]
    folds = json.loads((out / "folds.json").read_text())
    assert [f["held_out"] for f in folds] == ["S01", "S02"]
    assert folds[0]["tuning"]["subjects_seen"] == ["S02", "S03", "S04"]
    assert set(folds[0]["hyperparameters"]) >= {"learning_rate", "epochs"}
    assert (
        folds[0]["hyperparameters"]["learning_rate"]
        == folds[0]["tuning"]["best_params"]["learning_rate"]
    )


def test_predictions_cover_every_held_out_trial_and_predictor(
    tuned_run: tuple[Path, Dataset],
) -> None:
    out, ds = tuned_run
    pred = pd.read_csv(out / "predictions.csv", dtype={"subject": str, "trial": str})
    assert set(pred.predictor) == {"model", "mean", "body_mass", "ridge", "ridge_mass"}
    for predictor, d in pred.groupby("predictor"):
        assert len(d) == 2 * 2 * len(QUICK_TARGETS), predictor  # 2 subjects x 2 trials x 4 targets
        assert set(d.subject) == {"S01", "S02"}
    row = pred[(pred.predictor == "mean") & (pred.subject == "S01")].iloc[0]
    k = QUICK_TARGETS.index(row.target)
    assert row.pred_mpa == pytest.approx(ds.Y[ds.subject != "S01", k].mean(), rel=1e-5)
    assert row.true_mpa == pytest.approx(
        ds.Y[(ds.subject == "S01") & (ds.trial == row.trial), k][0], rel=1e-5
    )
    perm = pd.read_csv(out / "permutation.csv", dtype={"subject": str, "trial": str})
    assert (
        set(perm.permuted) == {"foot", "tibia", "static"}
        and set(perm.group) == {"rearfoot", "non_rearfoot"}
        and set(perm.repeat) == {0, 1}
    )
    att = pd.read_csv(out / "attention.csv", dtype={"subject": str, "trial": str})
    sums = att.groupby(["subject", "trial"])["weight"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-4)


def test_saved_artefacts_pass_the_leakage_check(tuned_run: tuple[Path, Dataset]) -> None:
    out, ds = tuned_run
    for rec in json.loads((out / "folds.json").read_text()):
        with np.load(out / "scalers" / f"fold_{rec['fold']:02d}.npz") as z:
            assert check_fold(ds, rec, dict(z)) == []


def test_folds_in_two_processes_give_the_same_run(
    tiny_cohort: Synthetic, tmp_path: Path, tf_ready: object
) -> None:
    """Folds trained side by side in spawned workers (one TensorFlow thread each) write the same
    predictions, records and file set as one process, in fold order, with honest progress."""
    spec = tiny_spec(architecture="lstm", static_features=["body_mass"],
                     validation={"seeds": [0, 1], "permutation_repeats": 1})  # fmt: skip
    ds = load_dataset(spec, tiny_cohort.store, tiny_cohort.cohort)
    runs = {}
    for workers in (1, 2):
        events: list[tuple[str, int | None]] = []
        run = run_loso(spec, ds, tmp_path / f"w{workers}",
                       options=RunOptions(max_folds=2, save_models=False, workers=workers),
                       on_event=lambda k, i, ev=events: ev.append((k, i.get("fold"))))  # fmt: skip
        assert run["fold_workers"] == workers
        started = [f for k, f in events if k == "fold_start"]
        finished = [f for k, f in events if k == "fold_done"]
        assert sorted(started) == sorted(finished) == [0, 1]
        runs[workers] = tmp_path / f"w{workers}"
    one, two = (pd.read_csv(runs[w] / "predictions.csv") for w in (1, 2))
    assert list(one.columns) == list(two.columns) and len(one) == len(two)
    assert (one.drop(columns="pred_mpa") == two.drop(columns="pred_mpa")).all().all()
    np.testing.assert_allclose(two.pred_mpa, one.pred_mpa, rtol=1e-5, atol=1e-6)
    f1, f2 = (json.loads((runs[w] / "folds.json").read_text()) for w in (1, 2))
    assert [f["held_out"] for f in f2] == [f["held_out"] for f in f1] == ["S01", "S02"]
    assert [f["early_stopping"] for f in f2] == [f["early_stopping"] for f in f1]
    names = {w: sorted(p.relative_to(runs[w]).as_posix() for p in runs[w].rglob("*") if p.is_file()) for w in (1, 2)}  # fmt: skip
    assert names[1] == names[2]


def test_a_fold_worker_exits_when_the_process_that_started_it_is_gone() -> None:
    """A pool worker whose parent was killed would wait for work forever (and hold its memory):
    the worker's watch ends it once its parent process is no longer the one that started it."""
    import multiprocessing as mp
    import time

    from footdt.learn.cv import _init_worker

    proc = mp.get_context("spawn").Process(target=_init_worker, args=(True, -1))  # not its parent
    t0 = time.perf_counter()
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == 1 and time.perf_counter() - t0 < 60


def test_tuning_per_block_never_sees_a_held_out_runner_and_runs_in_parallel(
    tiny_cohort: Synthetic, tmp_path: Path, tf_ready: object
) -> None:
    """``validation.tuning_blocks``: one study per block of held-out runners, tuned on the runners
    outside the block; each fold trains with its block's best hyperparameters, its record passes
    the leakage check, and blocks tuned in two processes give the same run as in one."""
    spec = tiny_spec(architecture="cnn1d", static_features=["body_mass"],
                     search_space={"learning_rate": {"low": 1e-3, "high": 1e-2, "log": True}},
                     validation={"seeds": [0], "permutation_repeats": 1, "inner_trials": 1,
                                 "tuning_blocks": 2})  # fmt: skip
    ds = load_dataset(spec, tiny_cohort.store, tiny_cohort.cohort)
    folds = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        events: list[str] = []
        run = run_loso(spec, ds, out, options=RunOptions(save_models=False, workers=workers),
                       on_event=lambda k, _i, ev=events: ev.append(k))  # fmt: skip
        assert run["tuning_blocks"] == 2 and run["fold_workers"] == workers
        assert events.count("block_done") == 2 and events.count("fold_done") == 4
        assert events.count("trial") == (2 if workers == 1 else 0)  # trials stream in one process
        blocks = json.loads((out / "tuning" / "blocks.json").read_text())
        held = [s for b in blocks for s in b["block_subjects"]]
        assert sorted(held) == ["S01", "S02", "S03", "S04"]  # every runner in exactly one block
        for b in blocks:
            assert not set(b["subjects_seen"]) & set(b["block_subjects"])
            assert (
                len(json.loads((out / "tuning" / f"block_{b['block']:02d}.json").read_text())) == 1
            )
        folds[workers] = json.loads((out / "folds.json").read_text())
        for rec in folds[workers]:
            block = next(b for b in blocks if rec["held_out"] in b["block_subjects"])
            assert rec["tuning"]["best_params"] == block["best_params"]
            assert rec["hyperparameters"]["learning_rate"] == block["best_params"]["learning_rate"]
            with np.load(out / "scalers" / f"fold_{rec['fold']:02d}.npz") as z:
                assert check_fold(ds, rec, dict(z)) == []
    assert [f["tuning"]["best_params"] for f in folds[1]] == [
        f["tuning"]["best_params"] for f in folds[2]
    ]
    one, two = (pd.read_csv(tmp_path / f"w{w}" / "predictions.csv") for w in (1, 2))
    np.testing.assert_allclose(two.pred_mpa, one.pred_mpa, rtol=1e-5, atol=1e-6)
    # a run of the first fold tunes only the block of its held-out runner
    run_loso(spec, ds, tmp_path / "first", options=RunOptions(save_models=False, max_folds=1))
    blocks = json.loads((tmp_path / "first" / "tuning" / "blocks.json").read_text())
    assert len(blocks) == 1 and "S01" in blocks[0]["block_subjects"]
