from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from footdt.spec.experiment import ExperimentSpec
from tests.learn.synthetic import Synthetic, make_cohort

QUICK_TARGETS = [
    "initial_contact.calcaneus.mean",
    "mid_stance.metatarsal_2.mean",
    "push_off.metatarsal_2.mean",
    "push_off.metatarsal_2.peak",
]


def tiny_spec(**model: Any) -> ExperimentSpec:
    """Four targets, a tiny network, one epoch, no tuning unless ``search_space`` is given."""
    validation = model.pop("validation", {})
    static = model.pop("static_features", [])
    hp = {"epochs": 1, "filters": 4, "units": 4, "dense_units": 4, "batch_size": 8, "levels": 2,
          "attention_units": 4, **model.pop("hyperparameters", {})}  # fmt: skip
    return ExperimentSpec.model_validate({
        "kind": "experiment", "id": "tiny", "targets": QUICK_TARGETS,
        "inputs": {"static_features": static},
        "model": {"architecture": "cnn1d", "hyperparameters": hp, **model},
        "validation": {"inner_trials": 2, "inner_folds": 2, "permutation_repeats": 1, **validation},
    })  # fmt: skip


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    """8 subjects x 3 trials x 3 strides (read-only: copy before changing it)."""
    return make_cohort(tmp_path_factory.mktemp("small"), n_subjects=8)


@pytest.fixture(scope="session")
def tiny_cohort(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    """4 subjects x 2 trials x 2 strides, for runs that train networks."""
    return make_cohort(tmp_path_factory.mktemp("tiny"), n_subjects=4, n_trials=2, n_strides=2)


@pytest.fixture(scope="session")
def tf_ready() -> Any:
    from footdt.learn.runtime import setup_tensorflow

    return setup_tensorflow(deterministic=True)


@pytest.fixture
def fresh_cohort(tmp_path: Path) -> Synthetic:
    return make_cohort(tmp_path, n_subjects=4, n_trials=2, n_strides=2, write=False)
