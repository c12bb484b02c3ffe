"""Checks on closed triangle surfaces (numpy/scipy only): open edges, shells, intersections, inside.

Triangle-triangle intersection uses the edge-crossing test: two non-coplanar triangles intersect
if and only if an edge of one crosses the other (Moller-Trumbore segment-triangle test). Candidate
pairs come from a uniform grid over triangle bounding boxes, so the cost grows about linearly with
the number of triangles. Triangles that share an edge are adjacent, not intersecting; triangles
that share one vertex are tested with the edges opposite that vertex only. Coplanar overlaps are
not detected (they do not occur in scanned or segmented anatomy).

For the proximal cut of user surfaces: ``clip_below`` keeps the part of a surface below a
horizontal plane, ``boundary_loops`` chains its open edges into loops and ``fan_caps`` closes
them with planar fans (exact volume and winding numbers; not a mesh).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def open_edges(triangles: np.ndarray) -> np.ndarray:
    """Undirected edges (K, 2) not shared by exactly two triangles, or shared by two triangles
    that traverse them in the same direction (inconsistent orientation)."""
    directed = triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    und = np.sort(directed, axis=1)
    keys, counts = np.unique(und, axis=0, return_counts=True)
    bad = keys[counts != 2]
    _, dcounts = np.unique(directed, axis=0, return_counts=True)
    if (dcounts > 1).any():
        d, c = np.unique(directed, axis=0, return_counts=True)
        bad = np.vstack([bad, np.sort(d[c > 1], axis=1)])
    return bad


def components(triangles: np.ndarray, n_points: int) -> int:
    """Number of connected shells (vertices not used by any triangle are ignored)."""
    e = triangles[:, [0, 1, 1, 2]].reshape(-1, 2)
    graph = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n_points, n_points))
    _, labels = connected_components(graph, directed=False)
    return len(np.unique(labels[np.unique(triangles)]))


def _candidate_pairs(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Pairs (i < j) of boxes that share a grid cell and overlap."""
    m = len(lo)
    cell = max(float(np.median(np.max(hi - lo, axis=1))) * 2.0, 1e-12)
    origin = lo.min(axis=0)
    a = np.floor((lo - origin) / cell).astype(np.int64)
    b = np.floor((hi - origin) / cell).astype(np.int64)
    span = b - a + 1
    dims = b.max(axis=0) + 2
    ids, cells = [], []
    for dx in range(int(span[:, 0].max())):
        for dy in range(int(span[:, 1].max())):
            for dz in range(int(span[:, 2].max())):
                ok = (dx < span[:, 0]) & (dy < span[:, 1]) & (dz < span[:, 2])
                idx = np.flatnonzero(ok)
                c = a[idx] + [dx, dy, dz]
                ids.append(idx)
                cells.append((c[:, 0] * dims[1] + c[:, 1]) * dims[2] + c[:, 2])
    tri, key = np.concatenate(ids), np.concatenate(cells)
    order = np.argsort(key, kind="stable")
    tri, key = tri[order], key[order]
    pairs = []
    for d in range(1, len(key)):
        same = key[d:] == key[:-d]
        if not same.any():
            break
        pairs.append(np.column_stack([tri[:-d][same], tri[d:][same]]))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    p = np.sort(np.vstack(pairs), axis=1)
    p = p[p[:, 0] != p[:, 1]]
    p = np.unique(p[:, 0] * m + p[:, 1])
    p = np.column_stack([p // m, p % m])
    overlap = np.all((lo[p[:, 0]] <= hi[p[:, 1]]) & (lo[p[:, 1]] <= hi[p[:, 0]]), axis=1)
    return p[overlap]


def _segment_hits(
    p0: np.ndarray, p1: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """Whether segments p0-p1 cross triangles abc strictly inside (vectorised Moller-Trumbore)."""
    eps = 1e-10
    e1, e2, d = b - a, c - a, p1 - p0
    h = np.cross(d, e2)
    det = np.einsum("ij,ij->i", e1, h)
    scale = np.linalg.norm(e1, axis=1) * np.linalg.norm(e2, axis=1) * np.linalg.norm(d, axis=1)
    ok = np.abs(det) > 1e-12 * np.maximum(scale, 1e-300)
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = p0 - a
    u = inv * np.einsum("ij,ij->i", s, h)
    q = np.cross(s, e1)
    v = inv * np.einsum("ij,ij->i", d, q)
    t = inv * np.einsum("ij,ij->i", e2, q)
    return ok & (u > eps) & (v > eps) & (u + v < 1 - eps) & (t > eps) & (t < 1 - eps)


def _pairs_intersect(points: np.ndarray, tris: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """For candidate pairs, whether the two triangles intersect (shared-edge pairs excluded)."""
    t1, t2 = tris[pairs[:, 0]], tris[pairs[:, 1]]
    shared = (t1[:, :, None] == t2[:, None, :]).sum(axis=(1, 2))
    hit = np.zeros(len(pairs), dtype=bool)
    for first, second in ((t1, t2), (t2, t1)):
        tri_pts = [points[second[:, k]] for k in range(3)]
        for i, j in ((0, 1), (1, 2), (2, 0)):
            # with one shared vertex, an edge touching it meets the other triangle at that vertex
            touches = (first[:, [i]] == second).any(axis=1) | (first[:, [j]] == second).any(axis=1)
            test = (shared == 0) | ((shared == 1) & ~touches)
            if test.any():
                idx = np.flatnonzero(test)
                hit[idx] |= _segment_hits(
                    points[first[idx, i]], points[first[idx, j]], *(p[idx] for p in tri_pts)
                )
    return hit & (shared < 2)


def self_intersections(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(K, 2) pairs of triangles of one surface that intersect each other."""
    p = points[triangles]
    pairs = _candidate_pairs(p.min(axis=1), p.max(axis=1))
    return pairs[_pairs_intersect(points, triangles, pairs)] if len(pairs) else pairs


def surfaces_intersect(pa: np.ndarray, ta: np.ndarray, pb: np.ndarray, tb: np.ndarray) -> bool:
    """Whether two surfaces (points, triangles) cross each other."""
    points = np.vstack([pa, pb])
    tris = np.vstack([ta, tb + len(pa)])
    p = points[tris]
    lo, hi = p.min(axis=1), p.max(axis=1)
    if not np.all(
        (lo[: len(ta)].min(axis=0) <= hi[len(ta) :].max(axis=0))
        & (lo[len(ta) :].min(axis=0) <= hi[: len(ta)].max(axis=0))
    ):
        return False
    pairs = _candidate_pairs(lo, hi)
    pairs = pairs[(pairs[:, 0] < len(ta)) & (pairs[:, 1] >= len(ta))]
    return bool(len(pairs) and _pairs_intersect(points, tris, pairs).any())


def winding_numbers(points: np.ndarray, triangles: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Generalised winding number of query points (1 inside an outward closed surface, 0 outside)."""
    out = np.empty(len(queries))
    for k, q in enumerate(np.asarray(queries, dtype=float)):
        a, b, c = (points[triangles[:, i]] - q for i in range(3))
        la, lb, lc = (np.linalg.norm(v, axis=1) for v in (a, b, c))
        num = np.einsum("ij,ij->i", a, np.cross(b, c))
        den = la * lb * lc + np.einsum("ij,ij->i", a, b) * lc + np.einsum("ij,ij->i", b, c) * la
        den += np.einsum("ij,ij->i", c, a) * lb
        out[k] = 2.0 * np.arctan2(num, den).sum() / (4.0 * np.pi)
    return out


def points_inside(points: np.ndarray, triangles: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Which query points lie inside a closed surface (either orientation)."""
    return np.abs(winding_numbers(points, triangles, queries)) > 0.5


def clip_below(
    points: np.ndarray, triangles: np.ndarray, height: float, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """The part of a triangle surface at or below the plane z = ``height`` (an open surface).

    Vertices within ``tol`` of the plane are snapped onto it; triangles crossing the plane are
    split at their edge crossings (a crossing shared by two triangles becomes one vertex, so the
    result stays connected); triangles above or in the plane are dropped. Orientation is kept.
    Unused vertices are removed. The new open boundary lies exactly in the plane.
    """
    pts = np.array(points, dtype=float)
    d = pts[:, 2] - height
    on = np.abs(d) <= tol
    pts[on, 2] = height
    side = np.where(on, 0, np.sign(d)).astype(np.int64)
    s = side[triangles]
    keep = triangles[(s.max(axis=1) <= 0) & (s.min(axis=1) < 0)]
    new_pts: list[np.ndarray] = []
    cut: dict[tuple[int, int], int] = {}

    def crossing(a: int, b: int) -> int:
        key = (min(a, b), max(a, b))
        if key not in cut:
            t = d[a] / (d[a] - d[b])
            p = pts[a] + t * (pts[b] - pts[a])
            p[2] = height
            cut[key] = len(pts) + len(new_pts)
            new_pts.append(p)
        return cut[key]

    extra: list[tuple[int, int, int]] = []
    for tri in triangles[(s.max(axis=1) > 0) & (s.min(axis=1) < 0)]:
        below = [int(v) for v in tri if side[v] < 0]
        r = int(np.argmin([side[v] for v in tri]))  # rotate so a vertex below comes first
        a, b, c = (int(tri[(r + k) % 3]) for k in range(3))
        sb, sc = side[b], side[c]
        if len(below) == 2:  # a below and one of b, c below: a quad below the plane
            if sb < 0:  # a, b below, c above
                ca, bc = crossing(c, a), crossing(b, c)
                extra += [(a, b, bc), (a, bc, ca)]
            else:  # a, c below, b above
                ab, bc = crossing(a, b), crossing(b, c)
                extra += [(a, ab, bc), (a, bc, c)]
        elif sb > 0 and sc > 0:  # only a below
            extra.append((a, crossing(a, b), crossing(c, a)))
        elif sb > 0:  # a below, b above, c on the plane
            extra.append((a, crossing(a, b), c))
        else:  # a below, b on the plane, c above
            extra.append((a, b, crossing(c, a)))
    if new_pts:
        pts = np.vstack([pts, np.asarray(new_pts)])
    tris = np.vstack([keep, np.asarray(extra, dtype=np.int64).reshape(-1, 3)])
    used = np.unique(tris)
    index = np.full(len(pts), -1, dtype=np.int64)
    index[used] = np.arange(len(used))
    return pts[used], index[tris]


def boundary_loops(triangles: np.ndarray) -> list[np.ndarray]:
    """The open boundary of a consistently oriented surface as closed vertex loops.

    Each loop follows the triangles' direction along their boundary edges. Raises
    ``ValueError`` when a boundary vertex has more than one outgoing boundary edge (a pinch).
    """
    directed = triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    und = np.sort(directed, axis=1)
    _, inverse, counts = np.unique(und, axis=0, return_inverse=True, return_counts=True)
    edges = directed[counts[inverse.ravel()] == 1]
    nxt: dict[int, int] = {}
    for a, b in edges.tolist():
        if a in nxt:
            raise ValueError(f"the boundary touches itself at vertex {a}")
        nxt[a] = b
    loops = []
    while nxt:
        start = next(iter(nxt))
        loop = [start]
        v = nxt.pop(start)
        while v != start:
            if v not in nxt:
                raise ValueError(f"the boundary is not a closed loop at vertex {v}")
            loop.append(v)
            v = nxt.pop(v)
        loops.append(np.asarray(loop, dtype=np.int64))
    return loops


def fan_caps(
    points: np.ndarray, triangles: np.ndarray, loops: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Close each boundary loop by a fan from its centroid (a new vertex), orientation kept.

    For a planar loop the fan lies in the plane: the closed surface then has the exact enclosed
    volume and exact winding numbers off the plane, even where the fan overlaps itself (a
    non-star-shaped loop), so it serves for volume and inside tests, not as a mesh.
    """
    pts, tris = [points], [triangles]
    n = len(points)
    for loop in loops:
        apex = n
        pts.append(points[loop].mean(axis=0, keepdims=True))
        n += 1
        tris.append(np.column_stack([np.roll(loop, -1), loop, np.full(len(loop), apex)]))
    return np.vstack(pts), np.vstack(tris).astype(np.int64)
