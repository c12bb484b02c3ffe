"""Plant leaks on purpose: the fold check must catch every one (and pass the honest run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from footdt.learn import cv, folds
from footdt.learn.cv import RunOptions, run_loso
from footdt.learn.dataset import Dataset, load_dataset
from footdt.learn.folds import fit_fold_scalers, loso_folds
from footdt.learn.leakage import LeakageError, check_fold
from tests.learn.conftest import tiny_spec
from tests.learn.synthetic import Synthetic


def _record(ds: Dataset, held: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """An honest record, built the way cv does."""
    fold = next(f for f in loso_folds(ds) if f.held_out == held)
    tr = fold.train_rows
    rec = {
        "fold": fold.index, "held_out": held, "train_subjects": fold.train_subjects(ds),
        "train_rows": tr.tolist(), "test_rows": fold.test_rows.tolist(),
        "baseline_rows": {"mean": tr.tolist(), "body_mass": tr.tolist(), "ridge": tr.tolist()},
        "baseline_values": {"mean": ds.Y[tr].mean(axis=0).tolist(),
                            "body_mass": (ds.Y[tr] / ds.body_mass_kg[tr, None]).mean(axis=0).tolist()},
        "tuning": {"subjects_seen": fold.train_subjects(ds),
                   "inner_splits": [[["S02"], ["S03", "S04"]], [["S03", "S04"], ["S02"]]]},
    }  # fmt: skip
    return rec, fit_fold_scalers(ds, tr).as_arrays()


@pytest.fixture(scope="module")
def ds(tiny_cohort: Synthetic) -> Dataset:
    return load_dataset(
        tiny_spec(static_features=["body_mass"]), tiny_cohort.store, tiny_cohort.cohort
    )


def test_honest_record_is_clean(ds: Dataset) -> None:
    rec, sc = _record(ds, "S01")
    assert check_fold(ds, rec, sc) == []


@pytest.mark.parametrize(
    ("plant", "message"),
    [
        (lambda ds, rec, sc: rec["train_subjects"].append("S01"), "among the training subjects"),
        (lambda ds, rec, sc: rec["train_rows"].append(rec["test_rows"][0]), "training rows are not exactly"),
        (lambda ds, rec, sc: sc.update(fit_fold_scalers(ds, np.arange(ds.n)).as_arrays()), "scaler"),
        (lambda ds, rec, sc: sc.update(y_mean=sc["y_mean"] * 1.001), "y scaler statistics"),
        (lambda ds, rec, sc: rec["baseline_values"].update(mean=ds.Y.mean(axis=0).tolist()), "mean baseline"),
        (lambda ds, rec, sc: rec["baseline_rows"]["ridge"].append(rec["test_rows"][0]), "baseline ridge"),
        (lambda ds, rec, sc: rec["tuning"]["subjects_seen"].append("S01"), "Optuna tuning used"),
        (lambda ds, rec, sc: rec["tuning"]["inner_splits"][0][1].append("S01"), "inner tuning split"),
    ],
    ids=["train-subjects", "train-rows", "scaler-all-rows", "scaler-stats", "mean-baseline",
         "ridge-rows", "tuning-subjects", "inner-split"],
)  # fmt: skip
def test_planted_leak_is_caught(ds: Dataset, plant: Any, message: str) -> None:
    rec, sc = _record(ds, "S01")
    plant(ds, rec, sc)
    problems = check_fold(ds, rec, sc)
    assert problems and any(message in p for p in problems), problems


def test_leaky_scaler_in_a_real_run_stops_it(
    ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tf_ready: object
) -> None:
    honest = folds.fit_fold_scalers
    monkeypatch.setattr(
        folds, "fit_fold_scalers", lambda d, rows, **kw: honest(d, np.arange(d.n), **kw)
    )
    with pytest.raises(LeakageError, match="scaler"):
        run_loso(tiny_spec(static_features=["body_mass"]), ds, tmp_path / "run",
                 options=RunOptions(max_folds=1, save_models=False))  # fmt: skip


def test_tuning_on_all_subjects_in_a_real_run_stops_it(
    ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tf_ready: object
) -> None:
    real = __import__("footdt.learn.tune", fromlist=["tune"]).tune
    monkeypatch.setattr(
        "footdt.learn.tune.tune", lambda spec, d, subjects, **kw: real(spec, d, d.subjects, **kw)
    )
    spec = tiny_spec(static_features=["body_mass"], search_space={"dropout": [0.0, 0.1]},
                     validation={"inner_trials": 1})  # fmt: skip
    with pytest.raises(LeakageError, match="Optuna tuning used the held-out subject"):
        run_loso(spec, ds, tmp_path / "run", options=RunOptions(max_folds=1, save_models=False))


def test_baselines_on_all_rows_in_a_real_run_stops_it(
    ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tf_ready: object
) -> None:
    real = cv.fit_baselines
    monkeypatch.setattr(
        cv,
        "fit_baselines",
        lambda F, Y, m, s, rows, **kw: real(F, Y, m, s, np.arange(len(Y)), **kw),
    )
    with pytest.raises(LeakageError, match="baseline"):
        run_loso(
            tiny_spec(), ds, tmp_path / "run", options=RunOptions(max_folds=1, save_models=False)
        )
