"""Measurements -> shape-model weights: requests met, the population's range guarded."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.shape.measure import measure
from footdt.shape.measurements import (
    REFUSE_Z,
    WARN_Z,
    fit_measurements,
    population_summary,
    shape_skin,
)
from footdt.shape.ssm import SSM, ShapeError

REQUESTS = [
    {"foot_length": 271.0, "foot_width": 104.0},
    {"foot_length": 248.0, "foot_width": 92.0, "arch_height": 35.0, "ball_girth": 248.0},
    {"foot_length": 280.0, "navicular_height": 45.0, "heel_width": 70.0, "instep_height": 66.0},
]


@pytest.mark.parametrize("request_mm", REQUESTS)
def test_requested_measurements_are_met_by_the_shape(builtin: SSM, request_mm: dict) -> None:
    fit = fit_measurements(builtin, request_mm)
    got = measure(shape_skin(builtin.reconstruct(fit.weights)))
    for name, value in fit.requested.items():
        assert got[name] == pytest.approx(value, abs=0.05), name
    assert fit.achieved == pytest.approx(got)
    assert not fit.warnings
    assert np.linalg.norm(fit.weights) < 4.0  # a typical foot, not a caricature


def test_the_rest_of_the_shape_is_the_most_probable_one(builtin: SSM) -> None:
    """Asking only for the mean foot length gives (nearly) the mean shape."""
    mean_length = population_summary(builtin)["foot_length"]["mean"]
    fit = fit_measurements(builtin, {"foot_length": mean_length})
    assert np.abs(fit.weights).max() < 0.05


def test_a_request_far_from_the_population_warns_then_is_refused(builtin: SSM) -> None:
    s = population_summary(builtin)["foot_length"]
    warn = s["mean"] + 0.5 * (WARN_Z + REFUSE_Z) * s["sd"]
    fit = fit_measurements(builtin, {"foot_length": warn})
    assert len(fit.warnings) == 1 and "SD above the shape model's population" in fit.warnings[0]
    assert fit.z_scores["foot_length"] == pytest.approx(0.5 * (WARN_Z + REFUSE_Z))
    with pytest.raises(ShapeError, match=r"foot_length = 0.27 mm is \d+\.\d SD below .*unit") as e:
        fit_measurements(builtin, {"foot_length": 0.27})  # metres typed as mm
    assert e.value.field == "foot_length"


def test_bad_names_and_contradictions(builtin: SSM) -> None:
    with pytest.raises(ShapeError, match="unknown measurement 'toe_girth'") as e:
        fit_measurements(builtin, {"foot_length": 265.0, "toe_girth": 80.0})
    assert e.value.field == "toe_girth"
    with pytest.raises(ShapeError, match="'navicular_height' = 41.0 contradicts 'arch_height'"):
        fit_measurements(builtin, {"arch_height": 40.0, "navicular_height": 41.0})
    with pytest.raises(ShapeError, match="no measurements given"):
        fit_measurements(builtin, {})
