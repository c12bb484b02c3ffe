"""Free-form deformation (FFD): a tensor-product B-spline lattice of control displacements. mm.

Why B-splines (clamped, uniform interior knots) and not plain Bernstein polynomials: with
``shape == degree + 1`` control points per axis a clamped B-spline *is* the Bernstein basis, so
nothing is lost, while more control points than ``degree + 1`` give local control (a toe change
does not pull the heel), a sparse basis ((degree+1)^3 non-zeros per point) and well-conditioned
fits, where a global Bernstein lattice of high degree is neither. Both reproduce polynomials up to
their degree exactly, so a degree >= 1 lattice reproduces affine maps.

A point ``x`` inside the box ``lo..hi`` moves to ``x + sum_k B_k(x) d_k``. Fits minimise

    sum_i w_i |x_i + u(x_i) - y_i|^2 / sum_i w_i            (mean squared residual, mm^2)
    + smoothing * V^(1/3) * integral_box |hess u|^2 dV      (thin-plate bending energy)
    + tikhonov * mean_k |d_k|^2                             (control displacement size)

where ``V`` is the box volume: the bending term is the mean squared second derivative scaled by
(box length)^4, so ``smoothing`` is dimensionless and does not depend on the lattice resolution.
The bending energy is zero for affine maps, so smoothing never biases an affine fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from footdt.errors import MeshError
from footdt.shape.distance import DistanceStats, TriangleSurface

Shape3 = tuple[int, int, int]


def _knots(n: int, p: int) -> np.ndarray:
    """Clamped knot vector on [0, 1] for ``n`` control points of degree ``p``."""
    return np.concatenate([np.zeros(p), np.linspace(0.0, 1.0, n - p + 1), np.ones(p)])


def _safe_inv(den: np.ndarray) -> np.ndarray:
    return np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)


def bspline_1d(u: np.ndarray, n: int, p: int, deriv: int = 0) -> np.ndarray:
    """(len(u), n) values of the ``deriv``-th derivative (w.r.t. ``u``) of the clamped B-splines."""
    u = np.asarray(u, dtype=float)
    if deriv > p:
        return np.zeros((len(u), n))
    t = _knots(n, p)
    m = len(t) - 1
    span = np.clip(np.searchsorted(t, u, side="right") - 1, p, n - 1)
    basis = np.zeros((len(u), m))
    basis[np.arange(len(u)), span] = 1.0
    for k in range(1, p + 1):
        lo_a, hi_a = _safe_inv(t[k:m] - t[: m - k]), _safe_inv(t[k + 1 : m + 1] - t[1 : m - k + 1])
        left, right = basis[:, :-1], basis[:, 1:]
        if k <= p - deriv:  # raise the degree (Cox-de Boor)
            basis = (u[:, None] - t[: m - k]) * lo_a * left + (
                t[k + 1 : m + 1] - u[:, None]
            ) * hi_a * right
        else:  # differentiate: B'_{i,k} = k (B_{i,k-1} / (t_{i+k}-t_i) - B_{i+1,k-1} / (...))
            basis = k * (lo_a * left - hi_a * right)
    return basis


def bspline_local(u: np.ndarray, n: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``p + 1`` non-zero clamped B-splines at each ``u``: values (len(u), p+1) and the index
    of the first (Cox-de Boor on the knot span only; same numbers as ``bspline_1d``)."""
    u = np.asarray(u, dtype=float)
    t = _knots(n, p)
    span = np.clip(np.searchsorted(t, u, side="right") - 1, p, n - 1)
    vals = np.zeros((len(u), p + 1))
    vals[:, 0] = 1.0
    left = np.zeros((len(u), p + 1))
    right = np.zeros((len(u), p + 1))
    for j in range(1, p + 1):
        left[:, j] = u - t[span + 1 - j]
        right[:, j] = t[span + j] - u
        saved = np.zeros(len(u))
        for r in range(j):
            temp = vals[:, r] / (right[:, r + 1] + left[:, j - r])  # > 0 inside a clamped span
            vals[:, r] = saved + right[:, r + 1] * temp
            saved = left[:, j - r] * temp
        vals[:, j] = saved
    return vals, span - p


@dataclass(frozen=True, eq=False)
class Lattice:
    """An FFD lattice: box ``lo..hi`` (mm), per-axis degrees, control displacements (nx,ny,nz,3) mm."""

    lo: np.ndarray
    hi: np.ndarray
    degrees: tuple[int, int, int]
    displacements: np.ndarray

    def __post_init__(self) -> None:
        shape = self.displacements.shape
        if len(shape) != 4 or shape[3] != 3:
            raise ValueError(f"control displacements must be (nx, ny, nz, 3), got {shape}")
        for axis, (n, p) in enumerate(zip(shape[:3], self.degrees, strict=True)):
            if p < 1 or n < p + 1:
                raise ValueError(f"axis {axis}: {n} control points cannot carry degree {p}")
        if np.any(np.asarray(self.hi) <= np.asarray(self.lo)):
            raise ValueError("lattice box needs hi > lo on every axis")

    @classmethod
    def around(
        cls,
        points: np.ndarray,
        shape: Sequence[int],
        degree: int | Sequence[int] = 3,
        pad: float = 10.0,
    ) -> Lattice:
        """A zero-displacement lattice over the bounding box of ``points`` padded by ``pad`` mm."""
        pts = np.asarray(points, dtype=float).reshape(-1, 3)
        n = tuple(int(s) for s in shape)
        deg = (degree,) * 3 if isinstance(degree, int) else tuple(int(d) for d in degree)
        deg = tuple(min(d, s - 1) for d, s in zip(deg, n, strict=True))
        return cls(
            lo=pts.min(axis=0) - pad,
            hi=pts.max(axis=0) + pad,
            degrees=(deg[0], deg[1], deg[2]),
            displacements=np.zeros((*n, 3)),
        )

    @property
    def shape(self) -> Shape3:
        s = self.displacements.shape
        return (s[0], s[1], s[2])

    @property
    def n_control(self) -> int:
        return int(np.prod(self.shape))

    def with_displacements(self, displacements: np.ndarray) -> Lattice:
        d = np.asarray(displacements, dtype=float).reshape((*self.shape, 3))
        return Lattice(self.lo.copy(), self.hi.copy(), self.degrees, d)

    def local(self, points: np.ndarray) -> np.ndarray:
        """Lattice coordinates in [0, 1]^3; ``MeshError`` if any point is outside the box."""
        pts = np.asarray(points, dtype=float).reshape(-1, 3)
        u = (pts - self.lo) / (self.hi - self.lo)
        outside = np.any((u < -1e-9) | (u > 1 + 1e-9), axis=1)
        if outside.any():
            first = np.round(pts[np.argmax(outside)], 2).tolist()
            raise MeshError(
                f"FFD: {int(outside.sum())} point(s) lie outside the lattice box "
                f"{np.round(self.lo, 2).tolist()}..{np.round(self.hi, 2).tolist()} mm "
                f"(first at {first}); build the lattice around every point it moves "
                "(Lattice.around, or box= in fit_ffd)"
            )
        return np.clip(u, 0.0, 1.0)

    def basis(self, points: np.ndarray) -> sp.csr_matrix:
        """Sparse (N, n_control) B-spline weights; control index ``(i*ny + j)*nz + k``."""
        u = self.local(points)
        n_pts = len(u)
        vals, idx = [], []
        for axis in range(3):
            p = self.degrees[axis]
            local, first = bspline_local(u[:, axis], self.shape[axis], p)
            vals.append(local)
            idx.append(first[:, None] + np.arange(p + 1))
        _, ny, nz = self.shape
        v = vals[0][:, :, None, None] * vals[1][:, None, :, None] * vals[2][:, None, None, :]
        c = (idx[0][:, :, None, None] * ny + idx[1][:, None, :, None]) * nz + idx[2][
            :, None, None, :
        ]
        per_row = v[0].size if n_pts else 0
        indptr = np.arange(n_pts + 1, dtype=np.int64) * per_row
        return sp.csr_matrix((v.reshape(-1), c.reshape(-1), indptr), shape=(n_pts, self.n_control))

    def displacement(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) displacement (mm) of ``points``."""
        return np.asarray(self.basis(points) @ self.displacements.reshape(-1, 3))

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Deformed positions (N, 3) mm of ``points`` (which must lie inside the lattice box)."""
        pts = np.asarray(points, dtype=float).reshape(-1, 3)
        return pts + self.displacement(pts)


def bending_matrix(lattice: Lattice) -> sp.csr_matrix:
    """(n_control, n_control) matrix K with d^T K d = integral of |hess u|^2 over the box (mm)."""
    grams: list[list[np.ndarray]] = []
    for axis in range(3):
        n, p = lattice.shape[axis], lattice.degrees[axis]
        length = float(lattice.hi[axis] - lattice.lo[axis])
        xg, wg = np.polynomial.legendre.leggauss(p + 1)
        t = np.unique(_knots(n, p))
        a, b = t[:-1, None], t[1:, None]
        uq = (a + (b - a) * (xg + 1) / 2).ravel()
        wq = ((b - a) / 2 * wg).ravel()
        per_deriv = []
        for d in range(3):
            bd = bspline_1d(uq, n, p, d)
            per_deriv.append((bd.T * wq) @ bd * length ** (1 - 2 * d))
        grams.append(per_deriv)

    def kron3(dx: int, dy: int, dz: int) -> sp.csr_matrix:
        return sp.kron(grams[0][dx], sp.kron(grams[1][dy], grams[2][dz]), format="csr")

    k = kron3(2, 0, 0) + kron3(0, 2, 0) + kron3(0, 0, 2)
    k = k + 2.0 * (kron3(1, 1, 0) + kron3(1, 0, 1) + kron3(0, 1, 1))
    return sp.csr_matrix(k)


class DataTerm:
    """Rows (K, n_control) of a data term with normalised weights and its cached normal matrix.

    The term contributes ``scale * sum_i w_i |rows_i d - r_i|^2 / sum_i w_i`` to the objective.
    """

    def __init__(
        self, rows: sp.csr_matrix, weights: np.ndarray | None = None, scale: float = 1.0
    ) -> None:
        k = rows.shape[0]
        w = np.ones(k) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (k,) or not np.isfinite(w).all() or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be finite, >= 0, one per point, with a positive sum")
        self.rows = sp.csr_matrix(rows)
        self.w = scale * w / w.sum()
        self.normal = np.zeros((rows.shape[1], rows.shape[1]))
        with one_blas_thread():
            for s in range(0, k, _ROWS_PER_CHUNK):  # dense chunks: 2x faster than sparse B^T W B
                dense = self.rows[s : s + _ROWS_PER_CHUNK].toarray()
                self.normal += dense.T @ (dense * self.w[s : s + _ROWS_PER_CHUNK, None])

    def rhs(self, residual: np.ndarray) -> np.ndarray:
        return np.asarray(self.rows.T @ (self.w[:, None] * residual))


_ROWS_PER_CHUNK = 4096


def one_blas_thread() -> Any:
    """BLAS on one thread: these matrices have a few hundred columns, and a multi-threaded
    OpenBLAS pool on a busy 2-core machine spun 3-6x slower than one thread."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def regulariser(lattice: Lattice, smoothing: float, tikhonov: float = 0.0) -> np.ndarray:
    """Dense penalty matrix: ``smoothing * V^(1/3) * K + tikhonov / n_control * I``."""
    if smoothing < 0 or tikhonov < 0:
        raise ValueError("smoothing and tikhonov must be >= 0")
    n = lattice.n_control
    volume = float(np.prod(lattice.hi - lattice.lo))
    reg = smoothing * volume ** (1.0 / 3.0) * bending_matrix(lattice).toarray()
    return reg + (tikhonov / n) * np.eye(n)


def solve_lattice(
    lattice: Lattice,
    reg: np.ndarray,
    terms: Sequence[tuple[DataTerm, np.ndarray]],
    normal: np.ndarray | None = None,
    rhs: np.ndarray | None = None,
) -> Lattice:
    """Minimise the data terms (term, residual (K, 3) mm) plus ``d^T reg d``; ``normal`` and
    ``rhs`` (n_control, 3) are precomputed terms to add."""
    a = reg + (0.0 if normal is None else normal)
    b = np.zeros((lattice.n_control, 3)) if rhs is None else rhs.copy()
    for term, residual in terms:
        a = a + term.normal
        b += term.rhs(residual)
    return lattice.with_displacements(_solve_dense(a, b))


def fit_ffd(
    source: np.ndarray,
    target: np.ndarray,
    lattice_shape: Sequence[int],
    *,
    degree: int | Sequence[int] = 3,
    weights: np.ndarray | None = None,
    smoothing: float = 1e-5,
    tikhonov: float = 0.0,
    pad: float = 10.0,
    box: tuple[np.ndarray, np.ndarray] | None = None,
) -> Lattice:
    """Lattice moving ``source`` (P, 3) onto corresponding ``target`` (P, 3) points (mm).

    The box is ``box`` (lo, hi) if given, else the source bounding box padded by ``pad`` mm: it
    must contain every point the lattice will later move (e.g. the whole volume mesh).
    """
    src = np.asarray(source, dtype=float).reshape(-1, 3)
    tgt = np.asarray(target, dtype=float).reshape(-1, 3)
    if src.shape != tgt.shape:
        raise ValueError(f"source {src.shape} and target {tgt.shape} must correspond row by row")
    lattice = Lattice.around(src, lattice_shape, degree, pad)
    if box is not None:
        lattice = Lattice(
            np.asarray(box[0], float),
            np.asarray(box[1], float),
            lattice.degrees,
            lattice.displacements,
        )
    term = DataTerm(lattice.basis(src), weights)
    return solve_lattice(lattice, regulariser(lattice, smoothing, tikhonov), [(term, tgt - src)])


@dataclass(frozen=True)
class SurfaceFit:
    """Result of ``fit_ffd_to_surface``: the lattice, iterations used and distances (mm)."""

    lattice: Lattice
    iterations: int
    converged: bool
    history: tuple[float, ...]  # RMS distance of the fitted source points before each refit
    distance: DistanceStats  # every source point, moved, to the target surface


def fit_ffd_to_surface(
    source_points: np.ndarray,
    target_surface: TriangleSurface | tuple[np.ndarray, np.ndarray],
    lattice_shape: Sequence[int] = (8, 5, 5),
    *,
    degree: int | Sequence[int] = 3,
    correspondences: tuple[np.ndarray, np.ndarray] | None = None,
    correspondence_weight: float = 1.0,
    source_triangles: np.ndarray | None = None,
    reverse_weight: float = 1.0,
    weights: np.ndarray | None = None,
    smoothing: float = 1e-5,
    stiffness: Sequence[float] = (1.0,),
    tangential: float = 1e-3,
    iterations: int = 30,
    tol: float = 0.005,
    max_points: int | None = 2000,
    seed: int = 0,
    tikhonov: float = 0.0,
    pad: float = 10.0,
    box: tuple[np.ndarray, np.ndarray] | None = None,
) -> SurfaceFit:
    """Lattice moving ``source_points`` (P, 3) onto a target triangle surface (mm).

    Non-rigid ICP: every iteration finds the exact closest target point of each moved source
    point and refits the lattice to a point-to-plane residual (along the distance gradient, i.e.
    the Gauss-Newton step for the squared distance) plus ``tangential`` times the point-to-point
    residual. Point-to-plane lets points slide along the target, so the bending penalty picks how
    the inside moves (an affine target is recovered exactly); the small default ``tangential``
    only pins directions no normal constrains (e.g. the height of a box whose top is open) —
    larger values anchor points to their current, wrong, closest points and bias the fit.
    Optional:

    * ``correspondences`` ``(source (K, 3), target (K, 3))``: known pairs of points, anywhere in
      the lattice box (skin points from a shape model, bone landmarks...); they seed the first
      fit and stay in every refit, with ``correspondence_weight`` relative to the closest-point
      term;
    * ``source_triangles`` (T, 3) indices into ``source_points``: the source as a surface, so
      target vertices are also matched to their closest points on the moved source surface
      (weight ``reverse_weight``). One-sided matching only asks source points to lie *on* the
      target, so they may slide along it (the rim of an open cut slid 20 mm in a test) and
      leave target regions uncovered; matching back pins both.

    ``stiffness`` multiplies ``smoothing`` stage by stage (e.g. (100, 10, 1) starts almost
    affine); a stage ends when the RMS distance (both directions when two-sided) improves by
    less than ``tol`` mm, and ``converged`` says the last stage did so within ``iterations``.
    At most ``max_points`` source points (and target vertices), a seeded uniform sample, enter
    the fit; ``distance`` is measured for every source point.
    """
    src = np.asarray(source_points, dtype=float).reshape(-1, 3)
    target = (
        target_surface
        if isinstance(target_surface, TriangleSurface)
        else TriangleSurface(*target_surface)
    )
    lattice = _lattice_for(src, lattice_shape, degree, pad, box)
    n = lattice.n_control
    rng = np.random.default_rng(seed)
    sample = _sample(len(src), max_points, rng)
    basis_all = lattice.basis(src)
    w = None if weights is None else np.asarray(weights, dtype=float)[sample]
    forward = DataTerm(basis_all[sample], w)
    dense = forward.rows.toarray()
    fixed_normal, fixed_rhs = np.zeros((n, n)), np.zeros((n, 3))
    if correspondences is not None:
        c_src = np.asarray(correspondences[0], dtype=float).reshape(-1, 3)
        c_tgt = np.asarray(correspondences[1], dtype=float).reshape(-1, 3)
        if c_src.shape != c_tgt.shape:
            raise ValueError("correspondences need one target point per source point")
        term = DataTerm(lattice.basis(c_src), scale=correspondence_weight)
        fixed_normal, fixed_rhs = term.normal, term.rhs(c_tgt - c_src)
    stages = [regulariser(lattice, smoothing * s, tikhonov) for s in stiffness or (1.0,)]
    d = np.zeros((n, 3))
    if correspondences is not None:
        # the seed: a slight Tikhonov term lets fewer than four correspondences (which leave
        # part of the affine null space of the bending energy free) still give a smooth start
        seed_a = stages[0] + fixed_normal
        seed_a += 1e-6 * np.trace(seed_a) / n * np.eye(n)
        d = _solve_dense(seed_a, fixed_rhs)
    tv = target.vertices[np.unique(target.triangles)]
    tv = tv[_sample(len(tv), max_points, rng)]
    history: list[float] = []
    stage, converged, it = 0, False, 0
    objective: list[float] = []  # RMS over both directions: what the stopping rule watches
    for it in range(1, iterations + 1):  # noqa: B007
        moved = src[sample] + dense @ d
        near = target.query(moved)
        history.append(near.stats().rms)
        ms = history[-1] ** 2
        if source_triangles is not None:
            rows, mix, nrm, dist = _reverse_match(
                src + basis_all @ d, source_triangles, basis_all, tv
            )
            ms += reverse_weight * float(np.mean(dist**2))
        objective.append(float(np.sqrt(ms)))
        if len(objective) > 1 and objective[-2] - objective[-1] < tol:
            if stage == len(stages) - 1:
                converged = True
                break
            stage += 1
        a = np.kron(np.eye(3), stages[stage] + fixed_normal)
        rhs = fixed_rhs.copy()
        _add_plane_term(
            a,
            rhs,
            dense,
            forward.w,
            near.points - src[sample],
            target.normals_at(moved, near),
            tangential,
        )
        if source_triangles is not None:
            rows_w = np.full(len(tv), reverse_weight / len(tv))
            _add_plane_term(a, rhs, rows, rows_w, tv - mix @ src, nrm, tangential)
        d = _solve_dense(a, rhs.T.reshape(-1)).reshape(3, n).T
    lattice = lattice.with_displacements(d)
    return SurfaceFit(
        lattice, it, converged, tuple(history), target.query(src + basis_all @ d).stats()
    )


def _lattice_for(
    src: np.ndarray,
    shape: Sequence[int],
    degree: int | Sequence[int],
    pad: float,
    box: tuple[np.ndarray, np.ndarray] | None,
) -> Lattice:
    if box is None:
        return Lattice.around(src, shape, degree, pad)
    return Lattice.around(
        np.vstack([np.asarray(box[0], float), np.asarray(box[1], float)]), shape, degree, 0.0
    )


def _sample(n: int, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or n <= limit:
        return np.arange(n)
    return np.sort(rng.choice(n, size=limit, replace=False))


def _add_plane_term(
    a: np.ndarray,
    rhs: np.ndarray,
    rows: np.ndarray,
    w: np.ndarray,
    residual: np.ndarray,
    normals: np.ndarray,
    tangential: float,
) -> None:
    """Add sum_i w_i [(n_i . (rows_i d - r_i))^2 + tangential |rows_i d - r_i|^2] to a, rhs."""
    n = rows.shape[1]
    along = np.einsum("ij,ij->i", normals, residual)
    with one_blas_thread():
        for i in range(3):
            for j in range(i, 3):
                m = w * (normals[:, i] * normals[:, j] + (tangential if i == j else 0.0))
                block = rows.T @ (rows * m[:, None])
                a[i * n : (i + 1) * n, j * n : (j + 1) * n] += block
                if j != i:
                    a[j * n : (j + 1) * n, i * n : (i + 1) * n] += block.T
            rhs[:, i] += rows.T @ (w * (normals[:, i] * along + tangential * residual[:, i]))


def _solve_dense(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import scipy.linalg as sla

    with one_blas_thread():
        try:
            return np.asarray(sla.cho_solve(sla.cho_factor(a), b))
        except sla.LinAlgError:
            raise MeshError(_UNDETERMINED) from None


_UNDETERMINED = (
    "FFD fit: the points do not determine the lattice (too few or coplanar points for its "
    "control points); add points, use a coarser lattice or set tikhonov > 0"
)


def _reverse_match(
    moved: np.ndarray, triangles: np.ndarray, basis: sp.csr_matrix, target_points: np.ndarray
) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray]:
    """Target points matched to their closest points on the moved source surface: their rows
    (M, n_control) dense, the (M, P) barycentric mix of source points, the source normals
    there and the distances (mm)."""
    surface = TriangleSurface(moved, triangles)
    near = surface.query(target_points)
    tri = surface.triangles[near.triangles]  # (M, 3) source point ids
    m = len(target_points)
    mix = sp.csr_matrix(
        (near.barycentric.ravel(), tri.ravel(), np.arange(m + 1) * 3), shape=(m, basis.shape[0])
    )
    return (mix @ basis).toarray(), mix, surface.normals_at(target_points, near), near.distances
