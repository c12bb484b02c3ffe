"""Skin measurements: plane sections against closed forms, template shapes against their
parameters, names."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.shape.measure import ALIASES, MEASUREMENTS, Skin, canonical, measure, plane_section
from footdt.shape.measurements import shape_skin
from footdt.shape.population import ShapeParams, foot_shape


def _ellipsoid(a: float, b: float, c: float, n: int = 6000) -> Skin:
    from scipy.spatial import ConvexHull

    k = np.arange(n) + 0.5
    z = 1 - 2 * k / n
    phi = np.pi * (1 + 5**0.5) * k
    unit = np.column_stack([np.sqrt(1 - z * z) * np.cos(phi), np.sqrt(1 - z * z) * np.sin(phi), z])
    pts = unit * [a, b, c]
    return Skin(pts, ConvexHull(pts).simplices, {})


def test_section_perimeter_and_height_match_an_ellipse() -> None:
    a, b, c = 60.0, 30.0, 20.0
    skin = _ellipsoid(a, b, c)
    seg = plane_section(skin, np.zeros(3), np.array([1.0, 0.0, 0.0]))  # the ellipse b x c
    h = ((b - c) / (b + c)) ** 2
    ramanujan = np.pi * (b + c) * (1 + 3 * h / (10 + np.sqrt(4 - 3 * h)))
    assert np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1).sum() == pytest.approx(ramanujan, rel=2e-3)
    assert seg[:, :, 2].max() == pytest.approx(c, rel=2e-3)
    assert np.abs(seg[:, :, 0]).max() < 1e-9  # every end point lies in the plane


@pytest.mark.parametrize(
    "params", [(265.0, 100.0, 40.0), (248.0, 93.0, 35.0), (284.0, 109.0, 47.0)]
)
def test_template_shapes_measure_their_parameters(params: tuple[float, float, float]) -> None:
    got = measure(shape_skin(foot_shape(ShapeParams(*params))))
    assert got["foot_length"] == pytest.approx(params[0], abs=1e-6)
    assert got["foot_width"] == pytest.approx(
        params[1], abs=1.0
    )  # the skin keeps >= 3 mm over bone
    assert got["arch_height"] == pytest.approx(params[2], abs=1e-6)
    assert 0.9 < got["ball_girth"] / params[0] < 1.15  # adults: ball girth ~ foot length
    assert got["heel_width"] < got["foot_width"]
    assert got["lateral_malleolus_height"] < got["medial_malleolus_height"]


def test_a_fuller_forefoot_has_a_larger_ball_girth_and_nothing_else_moves_at_the_heel() -> None:
    base = measure(shape_skin(foot_shape(ShapeParams())))
    full = measure(shape_skin(foot_shape(ShapeParams(forefoot_height=2.0))))
    assert full["ball_girth"] > base["ball_girth"] + 3.0
    assert full["heel_width"] == pytest.approx(base["heel_width"], abs=1e-6)
    assert full["foot_length"] == pytest.approx(base["foot_length"], abs=1e-6)


def test_names() -> None:
    assert canonical("navicular_height") == "arch_height"
    assert set(ALIASES.values()) <= set(MEASUREMENTS)
    with pytest.raises(KeyError, match="unknown measurement 'toe_girth'; known: foot_length"):
        canonical("toe_girth")
