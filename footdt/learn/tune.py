"""Optuna tuning inside a set of training subjects (nested: never on a held-out subject).

Search space (``model.search_space`` of the experiment spec), one entry per hyperparameter:
``[a, b, c]`` -> categorical; ``{low, high}`` -> uniform (integers when both are integers);
``log: true`` -> log-uniform; ``step`` -> a grid. Each trial trains on every inner grouped split
of the given subjects (scalers fitted on the inner training rows only) and scores the mean inner
validation MSE of standardised targets. During the first inner split the validation loss of every
epoch is reported to Optuna's ``MedianPruner``, which stops unpromising trials. With a storage
URL (``sqlite:///optuna.db``) a study is resumable: asking again for N trials runs only the
missing ones. Every trial records the subjects whose rows it touched (``subjects_seen``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from footdt.errors import FootdtError
from footdt.learn.architectures import DEFAULTS, HyperparameterError, resolve_hyperparameters
from footdt.learn.dataset import Dataset
from footdt.learn.folds import grouped_kfold

if TYPE_CHECKING:
    from footdt.spec.experiment import ExperimentSpec


def validate_search_space(space: dict[str, Any]) -> None:
    """Raise ``HyperparameterError`` for unknown names or malformed ranges."""
    for name, rng in space.items():
        if name not in DEFAULTS:
            raise HyperparameterError(
                f"search_space: unknown hyperparameter {name!r}; known: {', '.join(sorted(DEFAULTS))}"
            )
        if isinstance(rng, list):
            if not rng:
                raise HyperparameterError(f"search_space.{name}: empty list of choices")
        elif isinstance(rng, dict):
            extra = set(rng) - {"low", "high", "log", "step"}
            if extra or "low" not in rng or "high" not in rng or rng["low"] > rng["high"]:
                raise HyperparameterError(
                    f"search_space.{name}: need {{low, high[, log, step]}} with low <= high, got {rng}"
                )
        else:
            raise HyperparameterError(
                f"search_space.{name}: use [choices] or {{low, high}}, got {rng!r}"
            )


def suggest(trial: Any, space: dict[str, Any]) -> dict[str, Any]:
    """Sample one value per search-space entry from an Optuna trial."""
    out: dict[str, Any] = {}
    for name, rng in space.items():
        if isinstance(rng, list):
            out[name] = trial.suggest_categorical(name, rng)
        elif isinstance(rng["low"], int) and isinstance(rng["high"], int) and not rng.get("log"):
            out[name] = trial.suggest_int(
                name, rng["low"], rng["high"], step=int(rng.get("step", 1))
            )
        else:
            out[name] = trial.suggest_float(
                name, float(rng["low"]), float(rng["high"]), log=bool(rng.get("log", False)),
                step=rng.get("step"),
            )  # fmt: skip
    return out


@dataclass(frozen=True)
class TuneResult:
    study_name: str
    best_params: dict[str, Any]
    best_value: float | None
    n_complete: int
    n_pruned: int
    n_failed: int
    subjects_seen: list[str]
    inner_splits: list[tuple[list[str], list[str]]]
    trials: list[dict[str, Any]]


def experiment_fingerprint(spec: ExperimentSpec) -> str:
    """Hash of what makes trials comparable (targets, inputs, model, validation)."""
    keep = spec.model_dump(
        mode="json", include={"targets", "peak_stat", "label_backend", "inputs", "model"}
    )
    keep["inner_folds"], keep["seed"] = spec.validation.inner_folds, spec.validation.seeds[0]
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def open_study(
    name: str, storage: str | None, spec: ExperimentSpec, subjects: Sequence[str], splits: list[Any]
) -> Any:
    """Create or resume a study; refuse one made for another experiment or other subjects."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pr = spec.validation.pruner
    pruner = optuna.pruners.MedianPruner(
        n_startup_trials=pr.n_startup_trials, n_warmup_steps=pr.n_warmup_steps
    )
    meta = {"fingerprint": experiment_fingerprint(spec), "subjects": sorted(subjects),
            "inner_splits": [[list(a), list(b)] for a, b in splits]}  # fmt: skip
    probe = optuna.create_study(
        study_name=name, storage=storage, load_if_exists=True, direction="minimize"
    )
    done = len(probe.trials)
    sampler = optuna.samplers.TPESampler(seed=spec.validation.seeds[0] + done)
    study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner) if storage \
        else optuna.create_study(study_name=name, sampler=sampler, pruner=pruner, direction="minimize")  # fmt: skip
    old = probe.user_attrs
    if old and any(old.get(k) != v for k, v in meta.items()):
        what = [k for k, v in meta.items() if old.get(k) != v]
        raise FootdtError(
            f"Optuna study {name!r} in {storage} was made with a different {', '.join(what)}; "
            "use a new --storage or another experiment id"
        )
    for k, v in meta.items():
        study.set_user_attr(k, v)
    return study


def make_objective(
    spec: ExperimentSpec, ds: Dataset, splits: list[tuple[list[str], list[str]]]
) -> Callable[[Any], float]:
    """The trial function: inner grouped CV of the spec's architecture with sampled hyperparameters."""
    from footdt.learn.trainer import train_and_predict

    def objective(trial: Any) -> float:
        import optuna

        hp = resolve_hyperparameters(
            {**spec.model.hyperparameters, **suggest(trial, spec.model.search_space)}
        )
        scores: list[float] = []
        seen: set[str] = set()
        for j, (tr_sub, va_sub) in enumerate(splits):
            tr, va = ds.rows_of(tr_sub), ds.rows_of(va_sub)

            def report(epoch: int, _train: float, val: float | None, first: bool = j == 0) -> None:
                if first and val is not None:
                    trial.report(val, epoch)
                    if trial.should_prune():
                        raise optuna.TrialPruned(f"pruned at epoch {epoch + 1} (val {val:.4g})")

            try:
                out = train_and_predict(
                    spec, ds, tr, va, hp, seed=spec.validation.seeds[0], on_epoch=report
                )
            finally:
                seen |= set(ds.subject[np.concatenate([tr, va])].tolist())
                trial.set_user_attr("subjects_seen", sorted(seen))
            assert out.val_loss is not None
            scores.append(out.val_loss)
        return float(np.mean(scores))

    return objective


def tune(
    spec: ExperimentSpec,
    ds: Dataset,
    subjects: Sequence[str],
    *,
    n_trials: int,
    study_name: str,
    storage: str | None = None,
    on_trial: Callable[[dict[str, Any]], None] | None = None,
) -> TuneResult:
    """Tune on ``subjects`` only, until the study holds ``n_trials`` finished trials."""
    import optuna

    from footdt.learn.trainer import TrainingDiverged

    if not spec.model.search_space:
        raise FootdtError(f"experiment {spec.id!r} has no model.search_space to tune")
    validate_search_space(spec.model.search_space)
    splits = grouped_kfold(subjects, spec.validation.inner_folds, spec.validation.seeds[0])
    study = open_study(study_name, storage, spec, subjects, splits)
    finished = (
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
        optuna.trial.TrialState.FAIL,
    )
    todo = n_trials - sum(t.state in finished for t in study.trials)
    if todo > 0:
        callbacks = [lambda _s, t: on_trial(_trial_row(t))] if on_trial else []
        study.optimize(make_objective(spec, ds, splits), n_trials=todo, callbacks=callbacks,
                       catch=(TrainingDiverged,), gc_after_trial=False)  # fmt: skip
    rows = [_trial_row(t) for t in study.trials]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    seen = sorted({s for t in study.trials for s in t.user_attrs.get("subjects_seen", [])})
    return TuneResult(
        study_name=study_name,
        best_params=dict(study.best_params) if complete else {},
        best_value=float(study.best_value) if complete else None,
        n_complete=len(complete),
        n_pruned=sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
        n_failed=sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials),
        subjects_seen=seen,
        inner_splits=splits,
        trials=rows,
    )


def _trial_row(t: Any) -> dict[str, Any]:
    return {
        "number": t.number,
        "state": t.state.name,
        "value": t.value,
        "epochs_run": len(t.intermediate_values),
        "params": dict(t.params),
    }
