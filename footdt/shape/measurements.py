"""From skin measurements to SSM weights: the paper's "skin measurements as inputs". Units: mm.

The shape model's training shapes give the population of every measurement (``measure``). A
request (e.g. foot length 271 mm, width 104 mm) is checked against it: a value more than
``WARN_Z`` population SDs from the mean is a warning, more than ``REFUSE_Z`` a refusal (the model
cannot represent it; a unit slip is the usual cause).

Weights: a linear regression of the training scores on the requested measurements gives the
start; then the most probable shape that meets the request, i.e. the weights ``w`` (SD units,
prior N(0, I)) minimising

    sum_j ((m_j(w) - requested_j) / TOLERANCE)^2 + |w|^2

with the exact measurement functions (``scipy.optimize.least_squares``). With ``TOLERANCE`` =
0.05 mm, a request the model can meet is met to a few hundredths of a millimetre and the prior
picks the rest of the shape; a request it cannot meet (conflicting values) is a compromise, and
``achieved`` says by how much.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from footdt.shape.measure import MEASUREMENTS, Skin, canonical, measure
from footdt.shape.population import FootShape
from footdt.shape.ssm import SSM, ShapeError

WARN_Z = 2.5
REFUSE_Z = 4.0
TOLERANCE = 0.05  # mm


def shape_skin(shape: FootShape) -> Skin:
    """A ``FootShape`` as a ``Skin`` for ``footdt.shape.measure``."""
    return Skin(
        shape.skin, shape.triangles, dict(zip(shape.landmark_names, shape.landmarks, strict=True))
    )


def population(ssm: SSM) -> tuple[tuple[str, ...], np.ndarray]:
    """Measurement names and their values (n_training, m) on the model's training shapes."""
    if "population" not in ssm.cache:
        names = tuple(MEASUREMENTS)
        vals = np.array(
            [list(measure(shape_skin(ssm.reconstruct(s)), names).values()) for s in ssm.scores]
        )
        ssm.cache["population"] = (names, vals)
    names, vals = ssm.cache["population"]
    return names, vals


def population_summary(ssm: SSM) -> dict[str, dict[str, float]]:
    """Per measurement: mean, sd, min and max over the model's training shapes (mm)."""
    names, vals = population(ssm)
    return {
        n: {"mean": float(v.mean()), "sd": float(v.std(ddof=1)), "min": float(v.min()),
            "max": float(v.max())}
        for n, v in zip(names, vals.T, strict=True)
    }  # fmt: skip


@dataclass(frozen=True)
class MeasurementFit:
    """Weights (SD units) of the shape meeting a request, what it measures, and the checks."""

    weights: np.ndarray
    requested: dict[str, float]
    achieved: dict[str, float]
    z_scores: dict[str, float]
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, float]:
        return {k: self.achieved[k] - v for k, v in self.requested.items()}


def normalise_request(requested: Mapping[str, float]) -> dict[str, float]:
    """Canonical names (aliases resolved); ``ShapeError`` for unknown names or conflicting aliases."""
    out: dict[str, float] = {}
    for name, value in requested.items():
        try:
            key = canonical(name)
        except KeyError as exc:
            raise ShapeError(str(exc.args[0]), field=name) from None
        if key in out and abs(out[key] - float(value)) > 1e-9:
            raise ShapeError(
                f"measurement {name!r} = {value} contradicts {key!r} = {out[key]}", field=name
            )
        out[key] = float(value)
    return out


def check_range(ssm: SSM, request: Mapping[str, float]) -> tuple[dict[str, float], list[str]]:
    """z-scores of a (canonical) request against the model's population; warnings past
    ``WARN_Z``, ``ShapeError`` past ``REFUSE_Z``."""
    summary = population_summary(ssm)
    z, warnings = {}, []
    for name, value in request.items():
        s = summary[name]
        z[name] = (value - s["mean"]) / s["sd"] if s["sd"] > 0 else 0.0
        where = (f"{name} = {value:g} mm is {abs(z[name]):.1f} SD {'above' if z[name] > 0 else 'below'} "
                 f"the shape model's population (mean {s['mean']:.1f}, SD {s['sd']:.1f} mm)")  # fmt: skip
        if abs(z[name]) > REFUSE_Z:
            raise ShapeError(
                f"{where}: outside what the model can represent (limit {REFUSE_Z:g} SD); check the "
                "value and its unit (mm), or build a shape model that covers such feet "
                "(footdt shape build)",
                field=name,
            )
        if abs(z[name]) > WARN_Z:
            warnings.append(f"{where}: the shape is an extrapolation")
    return z, warnings


def fit_measurements(
    ssm: SSM, requested: Mapping[str, float], offset: Mapping[str, float] | None = None
) -> MeasurementFit:
    """The most probable shape (weights) meeting the requested measurements (mm). With
    ``offset``, the shape is asked for ``requested - offset`` (e.g. what a mesh of the shape
    loses to its facets); ranges are checked on ``requested``."""
    from scipy.optimize import least_squares

    request = normalise_request(requested)
    if not request:
        raise ShapeError("no measurements given: give at least foot_length")
    z, warnings = check_range(ssm, request)
    names = tuple(request)
    target = np.array([request[n] - (offset or {}).get(n, 0.0) for n in names])
    _, pop = population(ssm)
    cols = [list(MEASUREMENTS).index(n) for n in names]
    design = np.column_stack([np.ones(len(pop)), pop[:, cols]])
    coef, *_ = np.linalg.lstsq(design, ssm.scores, rcond=None)
    start = np.concatenate([[1.0], target]) @ coef

    def residual(w: np.ndarray) -> np.ndarray:
        got = measure(shape_skin(ssm.reconstruct(w)), names)
        return np.concatenate([(np.array(list(got.values())) - target) / TOLERANCE, w])

    sol = least_squares(residual, start, diff_step=1e-4, x_scale=1.0, xtol=1e-10, ftol=1e-10)
    w = np.asarray(sol.x, dtype=float)
    achieved = measure(shape_skin(ssm.reconstruct(w)))
    return MeasurementFit(w, request, achieved, z, warnings)
