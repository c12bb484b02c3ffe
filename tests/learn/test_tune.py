"""Optuna inside the training subjects: pruning really prunes, studies resume, mismatches are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from footdt.errors import FootdtError
from footdt.learn.architectures import HyperparameterError
from footdt.learn.dataset import load_dataset
from footdt.learn.tune import tune, validate_search_space
from tests.learn.conftest import tiny_spec
from tests.learn.synthetic import Synthetic


def test_pruning_really_prunes(tiny_cohort: Synthetic, tf_ready: object) -> None:
    # learning rates from useless (1e-7) to large: curves differ a lot, so the median rule bites
    spec = tiny_spec(
        hyperparameters={"epochs": 4},
        search_space={"learning_rate": {"low": 1e-7, "high": 3e-1, "log": True}},
        validation={"pruner": {"n_startup_trials": 2, "n_warmup_steps": 0}},
    )
    ds = load_dataset(spec, tiny_cohort.store, tiny_cohort.cohort)
    res = tune(spec, ds, ["S01", "S02", "S03"], n_trials=8, study_name="prune")
    assert res.n_pruned > 0, res.trials
    pruned = [t for t in res.trials if t["state"] == "PRUNED"]
    assert all(t["epochs_run"] < 4 for t in pruned)
    assert res.subjects_seen == ["S01", "S02", "S03"]  # S04 (the outer held-out subject) never
    assert all("S04" not in tr + va for tr, va in res.inner_splits)


def test_tuning_resumes_from_storage(
    tiny_cohort: Synthetic, tmp_path: Path, tf_ready: object
) -> None:
    spec = tiny_spec(search_space={"dropout": {"low": 0.0, "high": 0.5}, "batch_size": [4, 8]})
    ds = load_dataset(spec, tiny_cohort.store, tiny_cohort.cohort)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    first = tune(spec, ds, ds.subjects, n_trials=2, study_name="resume", storage=storage)
    assert len(first.trials) == 2
    second = tune(spec, ds, ds.subjects, n_trials=4, study_name="resume", storage=storage)
    assert len(second.trials) == 4 and [t["number"] for t in second.trials] == [0, 1, 2, 3]
    assert second.trials[:2] == first.trials
    again = tune(spec, ds, ds.subjects, n_trials=3, study_name="resume", storage=storage)
    assert len(again.trials) == 4  # already enough: nothing runs
    other = tiny_spec(search_space={"dropout": {"low": 0.0, "high": 0.2}})
    with pytest.raises(FootdtError, match="different fingerprint"):
        tune(other, ds, ds.subjects, n_trials=5, study_name="resume", storage=storage)
    with pytest.raises(FootdtError, match="different subjects"):
        tune(spec, ds, ds.subjects[:3], n_trials=5, study_name="resume", storage=storage)


def test_search_space_validation() -> None:
    validate_search_space({"units": {"low": 8, "high": 32, "step": 8}, "batch_size": [8, 16]})
    with pytest.raises(HyperparameterError, match="unknown hyperparameter 'lr'"):
        validate_search_space({"lr": [0.1]})
    with pytest.raises(HyperparameterError, match="low <= high"):
        validate_search_space({"units": {"low": 32, "high": 8}})
    with pytest.raises(HyperparameterError, match="use \\[choices\\]"):
        validate_search_space({"units": 8})


def test_no_search_space_is_an_error(tiny_cohort: Synthetic) -> None:
    spec = tiny_spec()
    ds = load_dataset(spec, tiny_cohort.store, tiny_cohort.cohort)
    with pytest.raises(FootdtError, match="no model.search_space"):
        tune(spec, ds, ds.subjects, n_trials=1, study_name="x")
