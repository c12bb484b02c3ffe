"""Exact distance from points to a triangle surface, with the closest points. Units: mm.

The closest point on every triangle is found exactly (Voronoi regions of the vertices, edges and
face, so points near edges and vertices are right). Candidate triangles come from
``scipy.spatial.cKDTree`` searches of triangle centroids that cannot miss the closest one:

* the exact distance ``d_u`` to the triangles of the few nearest centroids bounds the distance
  to the surface from above;
* a triangle whose vertices lie within ``r`` of its centroid ``c`` is at least ``|q - c| - r``
  from ``q``, so every triangle closer than ``d_u`` has its centroid within ``d_u + r``: those
  are all evaluated (a k-nearest query, and a ball query for points with more candidates).

Triangles are grouped by ``r`` (powers of two) so a few large triangles do not widen the search
for the rest. Triangle orientation does not matter.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

_CHUNK = 200_000  # point-triangle pairs evaluated at once (memory ~ 100 bytes each)
_FIRST = 4  # nearest centroids whose triangles give the first upper bound
_K = 8  # candidates per point fetched by a k-nearest query before falling back to a ball query


@dataclass(frozen=True)
class DistanceStats:
    """Summary of point-to-surface distances (mm)."""

    mean: float
    p95: float
    max: float
    rms: float

    @classmethod
    def of(cls, distances: np.ndarray) -> DistanceStats:
        d = np.asarray(distances, dtype=float)
        if not len(d):
            return cls(0.0, 0.0, 0.0, 0.0)
        return cls(
            mean=float(d.mean()),
            p95=float(np.percentile(d, 95)),
            max=float(d.max()),
            rms=float(np.sqrt(np.mean(d * d))),
        )


@dataclass(frozen=True)
class SurfaceDistance:
    """Per query point: distance (mm), closest point, its triangle and barycentric coordinates."""

    distances: np.ndarray  # (N,)
    points: np.ndarray  # (N, 3)
    triangles: np.ndarray  # (N,) triangle index
    barycentric: np.ndarray  # (N, 3) weights of the triangle's vertices

    def stats(self) -> DistanceStats:
        return DistanceStats.of(self.distances)


def closest_on_triangles(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(N, 3) barycentric coordinates of the point of triangle ``abc`` closest to ``p`` (rows paired).

    Degenerate (zero-area) triangles are handled: the answer is then a closest point of an edge.
    """
    ab, ac, ap = b - a, c - a, p - a
    bp, cp = p - b, p - c
    dot = lambda u, v: np.einsum("ij,ij->i", u, v)  # noqa: E731
    d1, d2 = dot(ab, ap), dot(ac, ap)
    d3, d4 = dot(ab, bp), dot(ac, bp)
    d5, d6 = dot(ab, cp), dot(ac, cp)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return np.clip(np.divide(num, den, out=np.zeros_like(num), where=den != 0), 0.0, 1.0)

    t_ab = ratio(d1, d1 - d3)
    t_ac = ratio(d2, d2 - d6)
    t_bc = ratio(d4 - d3, (d4 - d3) + (d5 - d6))
    total = va + vb + vc
    v_in = ratio(vb, total)
    w_in = ratio(vc, total)
    zero = np.zeros_like(d1)
    one = np.ones_like(d1)
    # Voronoi regions, tested in this order (the first that holds wins)
    conditions = [
        (d1 <= 0) & (d2 <= 0),  # vertex a
        (d3 >= 0) & (d4 <= d3),  # vertex b
        (vc <= 0) & (d1 >= 0) & (d3 <= 0),  # edge ab
        (d6 >= 0) & (d5 <= d6),  # vertex c
        (vb <= 0) & (d2 >= 0) & (d6 <= 0),  # edge ac
        (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0),  # edge bc
    ]
    choices_v = [zero, one, t_ab, zero, zero, 1.0 - t_bc]
    choices_w = [zero, zero, zero, one, t_ac, t_bc]
    v = np.select(conditions, choices_v, default=v_in)
    w = np.select(conditions, choices_w, default=w_in)
    # the face case clips v and w separately: renormalise the rare round-off excess onto edge bc
    excess = v + w > 1.0
    vw = np.where(excess, v + w, 1.0)
    v, w = v / vw, w / vw
    return np.column_stack([1.0 - v - w, v, w])


class TriangleSurface:
    """A triangle surface (vertices (M, 3) mm, triangles (T, 3)) ready for closest-point queries."""

    def __init__(self, vertices: np.ndarray, triangles: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        self.vertices = np.asarray(vertices, dtype=float)
        self.triangles = np.asarray(triangles, dtype=np.int64)
        if self.triangles.ndim != 2 or self.triangles.shape[1] != 3 or not len(self.triangles):
            raise ValueError("a triangle surface needs a non-empty (T, 3) array of triangles")
        corners = self.vertices[self.triangles]  # (T, 3, 3)
        centroids = corners.mean(axis=1)
        radius = np.linalg.norm(corners - centroids[:, None, :], axis=2).max(axis=1)
        self._tree = cKDTree(centroids)
        level = np.ceil(np.log2(np.maximum(radius, 1e-12))).astype(int)
        self._groups = []
        for lv in np.unique(level):
            ids = np.flatnonzero(level == lv)
            self._groups.append((ids, float(radius[ids].max()), cKDTree(centroids[ids])))

    def query(self, points: np.ndarray) -> SurfaceDistance:
        """Exact closest points on the surface for every row of ``points`` (N, 3)."""
        q = np.asarray(points, dtype=float).reshape(-1, 3)
        n = len(q)
        best = (np.full(n, np.inf), np.zeros(n, dtype=np.int64), np.zeros((n, 3)))
        if n:
            # an upper bound: the exact distance to the triangles of the nearest centroids
            k = min(_FIRST, len(self.triangles))
            _, near = self._tree.query(q, k=k)
            near = near.reshape(n, k)
            self._update(q, near, np.ones(near.shape, dtype=bool), best)
            for ids, r, tree in self._groups:
                # every closer triangle has its centroid within best + r of the point
                reach = (best[0] + r) * (1.0 + 1e-9) + 1e-9
                k = min(_K, len(ids))
                dist, found = tree.query(q, k=k)
                hit = dist.reshape(n, k) <= reach[:, None]
                self._update(q, ids[found.reshape(n, k)], hit, best)
                full = np.flatnonzero(hit[:, -1]) if k < len(ids) else np.zeros(0, np.int64)
                if len(full):  # maybe more candidates than k: ask for all of them
                    self._update_ball(q, full, reach[full], ids, tree, best)
        d, t, b = best
        closest = np.einsum("nk,nkj->nj", b, self.vertices[self.triangles[t]])
        return SurfaceDistance(d, closest, t, b)

    def normals_at(self, points: np.ndarray, result: SurfaceDistance) -> np.ndarray:
        """(N, 3) unit directions from the closest points to ``points``: the gradient of the
        distance, whatever the triangles' orientation; the triangle's normal (sign arbitrary)
        for points on the surface."""
        offset = np.asarray(points, dtype=float).reshape(-1, 3) - result.points
        v, t = self.vertices, self.triangles[result.triangles]
        face = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
        scale = np.linalg.norm(v[t[:, 1]] - v[t[:, 0]], axis=1) + 1e-300
        on = result.distances <= 1e-9 * scale
        out = np.where(on[:, None], face, offset)
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norm, out=np.zeros_like(out), where=norm > 0)

    def _pairs(self, p: np.ndarray, tri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        corners = self.vertices[self.triangles[tri]]
        bary = closest_on_triangles(p, corners[:, 0], corners[:, 1], corners[:, 2])
        return np.linalg.norm(p - np.einsum("nk,nkj->nj", bary, corners), axis=1), bary

    def _update(
        self, q: np.ndarray, tri: np.ndarray, mask: np.ndarray, best: tuple[np.ndarray, ...]
    ) -> None:
        """Candidates ``tri`` (N, k) where ``mask``: keep each point's closest so far."""
        rows, cols = np.nonzero(mask)
        d, bary = self._pairs(q[rows], tri[rows, cols])
        dd = np.full(mask.shape, np.inf)
        dd[rows, cols] = d
        bb = np.zeros((*mask.shape, 3))
        bb[rows, cols] = bary
        j = np.argmin(dd, axis=1)
        i = np.arange(len(q))
        better = dd[i, j] < best[0]
        i, j = i[better], j[better]
        best[0][i], best[1][i], best[2][i] = dd[i, j], tri[i, j], bb[i, j]

    def _update_ball(
        self,
        q: np.ndarray,
        who: np.ndarray,
        reach: np.ndarray,
        ids: np.ndarray,
        tree: Any,
        best: tuple[np.ndarray, ...],
    ) -> None:
        lists = tree.query_ball_point(q[who], reach, return_sorted=False)
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(who))
        local = np.fromiter(itertools.chain.from_iterable(lists), np.int64, int(counts.sum()))
        owner = np.repeat(who, counts)
        for s in range(0, len(owner), _CHUNK):
            o, t = owner[s : s + _CHUNK], ids[local[s : s + _CHUNK]]
            d, bary = self._pairs(q[o], t)
            order = np.lexsort((d, o))
            first = order[np.r_[True, o[order][1:] != o[order][:-1]]]
            better = d[first] < best[0][o[first]]
            first = first[better]
            best[0][o[first]], best[1][o[first]], best[2][o[first]] = (
                d[first],
                t[first],
                bary[first],
            )


def point_surface_distance(
    points: np.ndarray, vertices: np.ndarray, triangles: np.ndarray
) -> SurfaceDistance:
    """Exact distances (mm) and closest points from ``points`` (N, 3) to a triangle surface."""
    return TriangleSurface(vertices, triangles).query(points)
