"""Leakage checks: no held-out subject's labels or statistics reach training, tuning or scaling.

``check_fold`` compares what a fold *recorded* (the rows its scalers, baselines and tuning trials
actually touched, and the scaler statistics it used) with what an honest fold must have used,
recomputed here independently from the data set and the held-out subject alone. ``cv`` runs it
after every fold and stops with ``LeakageError``; tests plant leaks and expect it to fire.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from footdt.errors import FootdtError
from footdt.learn.dataset import Dataset

_RTOL = 1e-9


class LeakageError(FootdtError):
    """A held-out subject reached training, tuning or scaling of its own fold."""


def _stats(a: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sub = np.asarray(a, dtype=np.float64)[rows]
    axes = tuple(range(sub.ndim - 1))
    mean, std = sub.mean(axis=axes), sub.std(axis=axes)
    return mean, np.where(std > 1e-8 * np.maximum(1.0, np.abs(mean)), std, 1.0)


def check_fold(ds: Dataset, record: dict[str, Any], scaler: dict[str, np.ndarray]) -> list[str]:
    """Violations (empty list = clean) of one fold record and its saved scaler arrays."""
    held = record["held_out"]
    fold = f"fold {record['fold']} (held out {held})"
    honest_train = np.flatnonzero(ds.subject != held)
    out: list[str] = []

    def rows_ok(name: str, rows: Any) -> None:
        subj = set(ds.subject[np.asarray(rows, dtype=int)].tolist())
        if held in subj:
            out.append(f"{fold}: {name} used rows of the held-out subject")

    if held in record["train_subjects"]:
        out.append(f"{fold}: the held-out subject is among the training subjects")
    if set(record["train_rows"]) != set(honest_train.tolist()):
        out.append(f"{fold}: training rows are not exactly the other subjects' rows")
    if set(ds.subject[np.asarray(record["test_rows"], dtype=int)].tolist()) != {held}:
        out.append(f"{fold}: test rows are not exactly the held-out subject's rows")
    rows_ok("the scalers", scaler["rows"])
    for name, rows in record["baseline_rows"].items():
        rows_ok(f"baseline {name}", rows)
    per_kg = bool(scaler["y_per_kg"]) if "y_per_kg" in scaler else False
    y = ds.Y / ds.body_mass_kg[:, None] if per_kg else ds.Y
    for name, a in (("x", ds.X), ("y", y), ("static", ds.static)):
        if a.shape[-1] == 0:
            continue
        mean, std = _stats(a, honest_train)
        if not (np.allclose(scaler[f"{name}_mean"], mean, rtol=_RTOL, atol=1e-12)
                and np.allclose(scaler[f"{name}_std"], std, rtol=_RTOL, atol=1e-12)):  # fmt: skip
            out.append(
                f"{fold}: {name} scaler statistics differ from the training rows' statistics"
            )
    y_mean = ds.Y[honest_train].mean(axis=0)
    if not np.allclose(record["baseline_values"]["mean"], y_mean, rtol=_RTOL):
        out.append(f"{fold}: the mean baseline is not the training mean")
    per_kg = (ds.Y[honest_train] / ds.body_mass_kg[honest_train, None]).mean(axis=0)
    if not np.allclose(record["baseline_values"]["body_mass"], per_kg, rtol=_RTOL):
        out.append(f"{fold}: the body-mass baseline is not the training mean of label/mass")
    for es in record.get("early_stopping", []):
        if held in es["subjects"]:
            out.append(f"{fold}: early stopping (seed {es['seed']}) watched the held-out subject")
        if es.get("readout_rows") is not None:
            rows_ok(f"the read-out (seed {es['seed']})", es["readout_rows"])
            seen = set(ds.subject[np.asarray(es["readout_rows"], dtype=int)].tolist())
            if seen & set(es["subjects"]):
                out.append(f"{fold}: the read-out (seed {es['seed']}) was fitted on the "
                           "early-stopping runners that judge the network")  # fmt: skip
    tuning = record.get("tuning")
    if tuning:
        if held in tuning["subjects_seen"]:
            out.append(f"{fold}: Optuna tuning used the held-out subject")
        for tr, va in tuning["inner_splits"]:
            if held in tr or held in va:
                out.append(f"{fold}: an inner tuning split contains the held-out subject")
                break
    return out


def assert_no_leakage(ds: Dataset, record: dict[str, Any], scaler: dict[str, np.ndarray]) -> None:
    """Raise ``LeakageError`` listing every violation of ``check_fold``."""
    problems = check_fold(ds, record, scaler)
    if problems:
        raise LeakageError("; ".join(problems) + " (this is a bug: please report it)")
