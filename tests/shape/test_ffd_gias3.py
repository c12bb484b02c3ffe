"""Oracle: footdt's FFD against gias3's host-mesh fitting on the same source -> target problems.

gias3 (Ju Zhang's GIAS3, the toolkit behind the paper's shape pipeline) fits a host mesh, a
single cubic-Lagrange hexahedron ('quad444') around the points, by ``scipy.optimize.leastsq``
(``fieldwork.field.tools.fitting_tools.hostMeshFitPoints``). Its tricubic space is exactly the
space of a degree-3 lattice with 4 x 4 x 4 control points over the same box, so on the same
least-squares problem the two must agree; they differ only in their smoothing penalties
(gias3: Sobolev norm of the host *positions*; footdt: bending energy of the displacement).

The source is a structured tet block warped by a non-polynomial map (a box or an ellipsoid
surface would leave some tricubic fields invisible from the skin), the target a smooth
non-polynomial deformation, and the 'bone' points are the interior nodes.

Compatibility patch, only inside these tests: gias3 3.0.1's fieldwork calls ``scipy.dot``,
``scipy.array``, ``scipy.sin`` ... which modern SciPy removed (they were NumPy aliases). The
``gias3`` fixture sets the missing names on the ``scipy`` module to the NumPy functions with
``monkeypatch`` (undone after each test); nothing in footdt depends on them.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from footdt.mesh.faces import boundary_faces, face_triangles
from footdt.mesh.structured import box_tets
from footdt.shape.distance import TriangleSurface
from footdt.shape.ffd import fit_ffd, fit_ffd_to_surface

_SCIPY_ALIASES = (
    "dot", "array", "hstack", "newaxis", "add", "sum", "sqrt", "multiply",
    "sin", "cos", "linspace", "pi", "mod",
)  # fmt: skip
PAD = 5.0

# gias3 gets a capped number of leastsq evaluations (max_it): its "maxfev reached" is expected
pytestmark = pytest.mark.filterwarnings("ignore:Number of calls to function has reached maxfev")


@pytest.fixture
def gias3(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    import scipy

    for name in _SCIPY_ALIASES:
        try:
            getattr(scipy, name)
        except AttributeError:
            monkeypatch.setattr(scipy, name, getattr(np, name), raising=False)
    try:
        from gias3.fieldwork.field import geometric_field
        from gias3.fieldwork.field import geometric_field_fitter as gff
        from gias3.fieldwork.field.tools import fitting_tools
    except Exception as exc:  # any import failure: this oracle cannot run here
        pytest.skip(f"gias3 host-mesh fitting cannot be imported ({exc}); pip install gias3")
    return types.SimpleNamespace(gf=geometric_field, gff=gff, fit=fitting_tools)


def _problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Skin points, skin triangles, interior points and all nodes of a warped block (mm)."""
    nodes, elements = box_tets((120.0, 60.0, 50.0), (12, 6, 5))
    x, y, z = nodes.T
    nodes = nodes + np.column_stack(
        [
            6.0 * np.sin(y / 9.0) * np.cos(z / 11.0),
            5.0 * np.sin(x / 13.0 + z / 17.0),
            4.0 * np.cos(x / 15.0) * np.sin(y / 12.0),
        ]
    )
    tri = face_triangles(elements, boundary_faces(elements))
    skin = np.unique(tri)
    interior = np.setdiff1d(np.arange(len(nodes)), skin)
    return nodes[skin], np.searchsorted(skin, tri), nodes[interior], nodes


def _deform(x: np.ndarray, centre: np.ndarray) -> np.ndarray:
    return (
        centre
        + (x - centre) * [1.05, 0.97, 1.02]
        + np.column_stack(
            [
                3.0 * np.sin(x[:, 0] / 30.0),
                2.0 * np.cos(x[:, 1] / 20.0),
                1.5 * np.sin((x[:, 0] + x[:, 2]) / 25.0),
            ]
        )
    )


def _host_fit(
    g: types.SimpleNamespace,
    nodes: np.ndarray,
    slave: np.ndarray,
    residual: Callable[[np.ndarray], np.ndarray],
    sob_w: float,
    max_it: int,
) -> tuple[Any, Callable[[np.ndarray], np.ndarray]]:
    """gias3 host-mesh fit; returns the fit output and an evaluator of the fitted host map."""
    host = g.gff.makeHostMesh(nodes.T, PAD, "quad444")
    lo, hi = nodes.min(axis=0) - PAD, nodes.max(axis=0) + PAD

    def xi(points: np.ndarray) -> list[list[Any]]:
        # one host element spanning the padded box: material coordinates are exact, no search
        return [[0, u] for u in (points - lo) / (hi - lo)]

    with np.errstate(invalid="ignore"):  # gias3 reports sqrt(mean(residual)) of signed residuals
        out = g.fit.hostMeshFitPoints(
            host, slave, residual, slave_xi=xi(slave), max_it=max_it, sob_w=sob_w, verbose=False
        )

    def evaluate(points: np.ndarray) -> np.ndarray:
        ev = g.gf.makeGeometricFieldEvaluatorSparse(host, [1, 1], mat_points=xi(points))
        return np.asarray(ev(out[0])).T

    return out, evaluate


def _box(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return nodes.min(axis=0) - PAD, nodes.max(axis=0) + PAD


def test_host_mesh_reproduces_points_before_fitting(gias3: types.SimpleNamespace) -> None:
    skin, _, inner, nodes = _problem()
    _, evaluate = _host_fit(gias3, nodes, skin, lambda x: (x - skin).ravel(), 0.0, 1)
    assert np.abs(evaluate(inner) - inner).max() < 1e-9  # the undeformed host is the identity


def test_least_squares_fit_agrees_with_gias3(gias3: types.SimpleNamespace) -> None:
    """No smoothing on either side: one linear least-squares problem, one answer."""
    skin, _, inner, nodes = _problem()
    target = _deform(skin, nodes.mean(axis=0))
    out, evaluate = _host_fit(gias3, nodes, skin, lambda x: (x - target).ravel(), 0.0, 20)
    lattice = fit_ffd(skin, target, (4, 4, 4), degree=3, smoothing=0.0, box=_box(nodes))
    ours = np.linalg.norm(lattice.apply(skin) - target, axis=1)
    theirs = np.linalg.norm(np.asarray(out[1]) - target, axis=1)
    assert ours.mean() == pytest.approx(theirs.mean(), rel=1e-6)
    assert 0.05 < ours.mean() < 0.5  # a real residual: the deformation is not tricubic
    assert np.abs(lattice.apply(inner) - evaluate(inner)).max() < 1e-3
    assert np.linalg.norm(lattice.apply(inner) - inner, axis=1).max() > 2.0


def test_smoothed_fit_is_close_to_gias3(gias3: types.SimpleNamespace) -> None:
    """Light smoothing on both sides (different penalties): comparable skin error, interior
    ('bone') points within 1 mm of each other."""
    skin, _, inner, nodes = _problem()
    target = _deform(skin, nodes.mean(axis=0))
    out, evaluate = _host_fit(gias3, nodes, skin, lambda x: (x - target).ravel(), 1e-6, 20)
    lattice = fit_ffd(skin, target, (4, 4, 4), degree=3, smoothing=1e-6, box=_box(nodes))
    ours = np.linalg.norm(lattice.apply(skin) - target, axis=1).mean()
    theirs = np.linalg.norm(np.asarray(out[1]) - target, axis=1).mean()
    assert ours == pytest.approx(theirs, rel=0.3)
    assert np.linalg.norm(lattice.apply(inner) - evaluate(inner), axis=1).max() < 1.0


def test_surface_fit_is_comparable_to_gias3(gias3: types.SimpleNamespace) -> None:
    """Closest-point objective (exact distance to the target triangles) plus 12 landmark
    correspondences, weighted alike on both sides (gias3 sums all residuals: landmarks weigh
    K / P against the mean skin term)."""
    skin, tri, inner, nodes = _problem()
    moved = _deform(skin, nodes.mean(axis=0))
    target = TriangleSurface(moved, tri)
    picks = [0]  # farthest-point landmarks
    gap = np.linalg.norm(skin - skin[0], axis=1)
    for _ in range(11):
        picks.append(int(np.argmax(gap)))
        gap = np.minimum(gap, np.linalg.norm(skin - skin[picks[-1]], axis=1))
    marks = np.array(picks)
    slave = np.vstack([skin, skin[marks]])

    def residual(x: np.ndarray) -> np.ndarray:
        on_skin = target.query(x[: len(skin)]).distances
        return np.concatenate([on_skin, np.linalg.norm(x[len(skin) :] - moved[marks], axis=1)])

    out, evaluate = _host_fit(gias3, nodes, slave, residual, 1e-6, 6)
    fit = fit_ffd_to_surface(
        skin,
        target,
        (4, 4, 4),
        smoothing=1e-6,
        correspondences=(skin[marks], moved[marks]),
        correspondence_weight=len(marks) / len(skin),
        max_points=None,
        box=_box(nodes),
    )
    theirs = target.query(np.asarray(out[1])[: len(skin)]).stats()
    assert fit.distance.mean < 2.0 * theirs.mean + 0.02
    assert fit.distance.p95 < 2.0 * theirs.p95 + 0.05
    assert np.linalg.norm(fit.lattice.apply(inner) - evaluate(inner), axis=1).max() < 1.0
