"""The run directory: everything needed to reproduce and evaluate a cross-validation run.

```
run.json            format, experiment id, architecture, domain-adaptation mode, seeds, versions,
                    data set hash, store and cohort, status, timings
experiment.json     the validated experiment spec (experiment.yaml: the file as given, if any)
folds.json          per fold: held-out subject, training subjects and rows, inner tuning splits and
                    trials' subjects, hyperparameters used, baseline fits, timings
scalers/fold_NN.npz per-fold standardisation (x/y/static mean and std, rows fitted on)
models/fold_NN_<subject>_seedS.keras    per-fold, per-seed networks (inputs standardised)
tuning/fold_NN.json Optuna trials of the fold (state, value, epochs run, params)
predictions.csv     subject, trial, group, body_mass_kg, fold, predictor, target, true_mpa, pred_mpa
                    (predictor: model | mean | body_mass | ridge; per trial; MPa)
permutation.csv     held-out predictions with one input group permuted (permuted: foot | tibia | static, repeat)
attention.csv       lstm_attention only: mean attention weight per subject/trial and time sample
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from footdt.errors import FootdtError
from footdt.fileio import atomic_write
from footdt.learn.dataset import Dataset

RUN_FORMAT = "footdt-run"
RUN_VERSION = 1
PRED_COLUMNS = ("subject", "trial", "group", "body_mass_kg", "fold", "predictor", "target",
                "true_mpa", "pred_mpa")  # fmt: skip


class RunDirError(FootdtError):
    """A run directory is missing files or is not a footdt run."""


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=1, default=_jsonable) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text))


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.integer | np.floating | np.bool_):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_csv(path: Path, frame: Any) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))


def long_predictions(
    ds: Dataset, rows: np.ndarray, pred: np.ndarray, predictor: str, fold: int, **extra: Any
) -> Any:
    """Long-format predictions of ``rows`` averaged over strides to one value per trial (MPa)."""
    import pandas as pd

    k = len(ds.targets)
    frame = pd.DataFrame({
        "subject": np.repeat(ds.subject[rows], k),
        "trial": np.repeat(ds.trial[rows], k),
        "group": np.repeat(ds.group[rows], k),
        "body_mass_kg": np.repeat(ds.body_mass_kg[rows], k),
        "fold": fold,
        "predictor": predictor,
        "target": np.tile(np.asarray(ds.targets), len(rows)),
        "true_mpa": ds.Y[rows].reshape(-1),
        "pred_mpa": np.asarray(pred, dtype=float).reshape(-1),
        **extra,
    })  # fmt: skip
    keys = [c for c in frame.columns if c not in ("true_mpa", "pred_mpa")]
    return frame.groupby(keys, sort=False, as_index=False)[["true_mpa", "pred_mpa"]].mean()


@dataclass(frozen=True)
class RunData:
    path: Path
    run: dict[str, Any]
    folds: list[dict[str, Any]]
    predictions: Any  # DataFrame
    permutation: Any | None  # DataFrame
    attention: Any | None  # DataFrame


def read_run(run_dir: str | Path) -> RunData:
    """Load a finished run; a missing or foreign directory is a one-line error."""
    import pandas as pd

    d = Path(run_dir)
    meta = d / "run.json"
    if not meta.is_file():
        raise RunDirError(
            f"{d}: no run.json: not a footdt run directory (make one with footdt train)"
        )
    run = json.loads(meta.read_text())
    if run.get("format") != RUN_FORMAT:
        raise RunDirError(f"{meta}: format is {run.get('format')!r}, not {RUN_FORMAT!r}")
    if run.get("status") != "complete":
        raise RunDirError(
            f"{d}: run status is {run.get('status')!r}; it did not finish (re-run footdt train)"
        )
    for name in ("folds.json", "predictions.csv"):
        if not (d / name).is_file():
            raise RunDirError(f"{d}: {name} is missing; re-run footdt train")
    folds = json.loads((d / "folds.json").read_text())
    preds = pd.read_csv(d / "predictions.csv", dtype={"subject": str, "trial": str})
    perm = d / "permutation.csv"
    att = d / "attention.csv"
    return RunData(
        path=d,
        run=run,
        folds=folds,
        predictions=preds,
        permutation=pd.read_csv(perm, dtype={"subject": str, "trial": str})
        if perm.is_file()
        else None,
        attention=pd.read_csv(att, dtype={"subject": str, "trial": str}) if att.is_file() else None,
    )
