"""FFD lattice: B-spline basis, exact affine reproduction, regularised fits, surface fitting."""

from __future__ import annotations

from itertools import pairwise
from math import comb

import numpy as np
import pytest

from footdt.errors import MeshError
from footdt.shape.distance import TriangleSurface
from footdt.shape.ffd import (
    Lattice,
    bending_matrix,
    bspline_1d,
    bspline_local,
    fit_ffd,
    fit_ffd_to_surface,
)

LO, HI = np.array([0.0, -50.0, 0.0]), np.array([260.0, 50.0, 110.0])


def _points(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(LO, HI, size=(n, 3))


def _smooth(x: np.ndarray) -> np.ndarray:
    """A smooth deformation of a foot-sized box that no polynomial lattice holds exactly."""
    return x + np.column_stack(
        [
            3.0 * np.sin(x[:, 0] / 80.0),
            2.0 * np.cos(x[:, 1] / 40.0) * x[:, 0] / 260.0,
            0.0005 * (x[:, 0] - 130.0) ** 2,
        ]
    )


@pytest.mark.parametrize("n, p", [(4, 3), (7, 3), (5, 2), (2, 1), (6, 1)])
def test_bspline_partition_of_unity_and_derivatives(n: int, p: int) -> None:
    u = np.linspace(0.0, 1.0, 41)
    assert np.allclose(bspline_1d(u, n, p).sum(axis=1), 1.0, atol=1e-14)
    assert np.all(bspline_1d(u, n, p) >= -1e-15)
    # central differences away from the knots
    interior = np.linspace(0.0, 1.0, n - p + 1)
    v = np.array([x for x in np.linspace(0.013, 0.987, 23) if np.min(np.abs(x - interior)) > 2e-3])
    h = 1e-6
    for d in (1, 2):
        fd = (bspline_1d(v + h, n, p, d - 1) - bspline_1d(v - h, n, p, d - 1)) / (2 * h)
        assert np.allclose(bspline_1d(v, n, p, d), fd, atol=1e-4 * max(1.0, np.abs(fd).max()))


@pytest.mark.parametrize("n, p", [(4, 3), (8, 3), (5, 2), (3, 1)])
def test_local_evaluation_matches_the_full_recursion(n: int, p: int) -> None:
    u = np.r_[np.linspace(0.0, 1.0, 57), np.linspace(0.0, 1.0, n - p + 1)]  # knots included
    vals, first = bspline_local(u, n, p)
    dense = np.zeros((len(u), n))
    np.put_along_axis(dense, first[:, None] + np.arange(p + 1), vals, axis=1)
    assert np.allclose(dense, bspline_1d(u, n, p), atol=1e-14)


def test_clamped_bspline_with_degree_plus_one_points_is_bernstein() -> None:
    u = np.linspace(0.0, 1.0, 17)
    p = 3
    bernstein = np.stack([comb(p, i) * u**i * (1 - u) ** (p - i) for i in range(p + 1)], axis=1)
    assert np.allclose(bspline_1d(u, p + 1, p), bernstein, atol=1e-14)


def test_basis_is_sparse_local_and_sums_to_one() -> None:
    lattice = Lattice.around(np.vstack([LO, HI]), (8, 5, 6), degree=3, pad=5.0)
    basis = lattice.basis(np.vstack([_points(200), LO - 5.0, HI + 5.0]))  # box corners included
    assert basis.shape == (202, 8 * 5 * 6)
    assert np.all(np.diff(basis.indptr) == 64)
    assert np.allclose(np.asarray(basis.sum(axis=1)).ravel(), 1.0)


@pytest.mark.parametrize(
    "degree, shape",
    [(1, (2, 2, 2)), (1, (4, 3, 3)), (2, (5, 4, 4)), (3, (4, 4, 4)), (3, (8, 5, 5))],
)
def test_affine_map_is_reproduced_exactly(degree: int, shape: tuple[int, int, int]) -> None:
    a = np.array([[1.05, 0.02, 0.01], [-0.03, 0.97, 0.05], [0.0, 0.04, 1.1]])
    t = np.array([3.0, -2.0, 5.0])
    src = _points(500)
    lattice = fit_ffd(src, src @ a.T + t, shape, degree=degree, smoothing=1.0)
    q = _points(300, seed=1)
    assert np.abs(lattice.apply(q) - (q @ a.T + t)).max() < 1e-9
    d = lattice.displacements.reshape(-1, 3)
    energy = np.einsum("ic,ij,jc->", d, bending_matrix(lattice).toarray(), d)
    assert abs(energy) < 1e-9  # the smoothing term never penalises an affine map


def test_identity_when_target_equals_source() -> None:
    src = _points(400)
    lattice = fit_ffd(src, src, (6, 5, 5), smoothing=1e-3, tikhonov=1e-3)
    assert np.abs(lattice.displacements).max() < 1e-12
    assert np.array_equal(lattice.apply(src), src)


def test_known_smooth_deformation_is_recovered() -> None:
    src = _points(3000)
    lattice = fit_ffd(src, _smooth(src), (8, 6, 6), smoothing=1e-7)
    q = _points(500, seed=2)
    err = np.linalg.norm(lattice.apply(q) - _smooth(q), axis=1)
    assert err.max() < 0.1  # of a deformation of up to ~6 mm
    assert np.linalg.norm(_smooth(q) - q, axis=1).max() > 4.0


def test_bending_matrix_integrates_hessian_exactly() -> None:
    """u = (x^2, xy, 0) (mm): |hess u|^2 = 4 + 2 everywhere, so the energy is 6 * box volume."""
    grid = np.stack(
        np.meshgrid(*[np.linspace(a, b, 9) for a, b in zip(LO, HI, strict=True)]), -1
    ).reshape(-1, 3)
    field = np.column_stack([grid[:, 0] ** 2, grid[:, 0] * grid[:, 1], np.zeros(len(grid))])
    lattice = Lattice.around(grid, (5, 4, 4), degree=3, pad=0.0)
    lattice = fit_ffd(grid, grid + field, (5, 4, 4), smoothing=0.0, box=(LO, HI))
    assert np.abs(lattice.displacement(grid) - field).max() < 1e-6 * np.abs(field).max()
    d = lattice.displacements.reshape(-1, 3)
    energy = np.einsum("ic,ij,jc->", d, bending_matrix(lattice).toarray(), d)
    assert energy == pytest.approx(6.0 * np.prod(HI - LO), rel=1e-9)


def test_regularisation_trades_fit_for_smoothness() -> None:
    src = _points(800)
    tgt = _smooth(src)
    residual, energy = [], []
    for smoothing in (1e-8, 1e-6, 1e-4, 1e-2, 1e2):
        lattice = fit_ffd(src, tgt, (7, 5, 5), smoothing=smoothing)
        d = lattice.displacements.reshape(-1, 3)
        residual.append(float(np.mean(np.sum((lattice.apply(src) - tgt) ** 2, axis=1))))
        energy.append(float(np.einsum("ic,ij,jc->", d, bending_matrix(lattice).toarray(), d)))
    assert all(b >= a - 1e-12 for a, b in pairwise(residual))
    assert all(b <= a + 1e-12 for a, b in pairwise(energy))
    # infinitely stiff: the best affine fit (the bending energy's null space)
    x1 = np.column_stack([src, np.ones(len(src))])
    affine = x1 @ np.linalg.lstsq(x1, tgt, rcond=None)[0]
    stiff = fit_ffd(src, tgt, (7, 5, 5), smoothing=1e6)
    assert np.abs(stiff.apply(src) - affine).max() < 0.01


def test_tikhonov_shrinks_control_displacements() -> None:
    src = _points(400)
    sizes = [
        np.linalg.norm(fit_ffd(src, src + 5.0, (5, 4, 4), tikhonov=t).displacements)
        for t in (0.0, 1.0, 100.0, 1e4)
    ]
    assert sizes[0] == pytest.approx(5.0 * np.sqrt(5 * 4 * 4 * 3), rel=1e-9)
    assert all(b < a for a, b in pairwise(sizes))


def test_weights_pick_which_points_to_follow() -> None:
    src = _points(300)
    tgt = src.copy()
    tgt[:150] += 4.0  # two inconsistent halves
    w = np.r_[np.ones(150), np.full(150, 1e-6)]
    lattice = fit_ffd(src, tgt, (2, 2, 2), degree=1, weights=w)
    assert np.abs(lattice.apply(src[:150]) - tgt[:150]).max() < 1e-3


def test_points_outside_the_lattice_are_refused() -> None:
    lattice = fit_ffd(_points(100), _points(100) + 1.0, (4, 4, 4))
    with pytest.raises(MeshError, match=r"1 point\(s\) lie outside the lattice box"):
        lattice.apply(np.vstack([_points(5), HI + 20.0]))


def test_undetermined_fit_says_what_to_do() -> None:
    src = np.array([[0.0, 0, 0], [10, 0, 0], [0, 10, 0]])  # three points, one plane
    with pytest.raises(MeshError, match="do not determine the lattice"):
        fit_ffd(src, src + 1.0, (4, 4, 4), smoothing=0.0, box=(LO, HI))


def _ellipsoid(subdivisions: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """An icosphere scaled to a foot-like ellipsoid (semi-axes 120, 45, 40 mm)."""
    t = (1 + 5**0.5) / 2
    v = np.array(
        [[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t], [0, -1, -t],
         [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], dtype=float,
    )  # fmt: skip
    f = np.array(
        [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
         [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
         [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]]
    )  # fmt: skip
    for _ in range(subdivisions):
        edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
        uniq, inv = np.unique(edges, axis=0, return_inverse=True)
        mid = len(v) + inv.reshape(3, -1).T
        v = np.vstack([v, (v[uniq[:, 0]] + v[uniq[:, 1]]) / 2])
        a, b, c = f.T
        ab, bc, ca = mid.T
        f = np.concatenate(
            [np.c_[a, ab, ca], np.c_[b, bc, ab], np.c_[c, ca, bc], np.c_[ab, bc, ca]]
        )
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v * [120.0, 45.0, 40.0] + [130.0, 0.0, 55.0], f


def test_surface_fit_lands_source_on_target() -> None:
    v, f = _ellipsoid()
    target = TriangleSurface(_smooth(v) * [1.06, 1.0, 0.97], f)
    before = target.query(v).stats()
    fit = fit_ffd_to_surface(v, target, (6, 4, 4))
    assert fit.converged
    assert before.mean > 2.0 and before.max > 10.0
    assert fit.distance.mean < 0.1 and fit.distance.max < 0.5
    assert fit.history[0] > fit.history[-1]


def test_surface_fit_seeded_by_correspondences() -> None:
    v, f = _ellipsoid()
    moved = _smooth(v) * [1.1, 1.0, 1.0]  # 10 % longer: the tips move ~25 mm
    landmarks = np.argsort(v[:, 0])[[0, -1]]  # heel and toe tips: two are enough for a seed
    fit = fit_ffd_to_surface(
        v, (moved, f), (6, 4, 4), correspondences=(v[landmarks], moved[landmarks])
    )
    assert fit.converged
    assert fit.distance.p95 < 0.15
    assert np.abs(fit.lattice.apply(v[landmarks]) - moved[landmarks]).max() < 0.05
