"""A foot scan: read and check it, then fit the shape model to it. Units: mm, foot frame.

Reading (``read_scan``): STL/PLY/OBJ/OFF/VTP (``footdt.anatomy.user_surfaces.read_triangles``),
scaled to mm, a left foot mirrored (y -> -y). Refused, with what to do: a size no foot has (a
scan in metres declared as millimetres is ~0.27 "mm" long), edges shared by more than two
triangles, and holes: a scan may be open where it leaves the leg (one boundary loop, the longest),
any other boundary loop is a hole.

Fitting (``fit_scan``), all in the shape model's foot frame (x heel -> toes, y medial, z up):

1. *Rigid + scale alignment*: the model's mean skin is put on the scan from each of the four
   proper rotations that map its principal axes onto the scan's (and, as a check, the four
   improper ones), each screened by a few closest-point iterations; the best proper and the
   best improper start are refined by gias3's closest-point rigid + scale registration
   (``gias3.registration.alignment_fitting.fitDataRigidScaleEPDP``). The proper one wins; if a mirrored start fits much better, the scan is a foot of the other side and is
   refused with that message.
2. *Rigid + PC weights*: alternately the closest scan point of every model skin point (pairs
   whose scan point lies on the scan's open rim, or further than ``OUTLIER`` x the median and
   ``OUTLIER_FLOOR``, are left out), the weights by regularised linear least squares (prior N(0, I) in SD units) and
   the rigid pose by Kabsch (``scipy.spatial.transform.Rotation.align_vectors``), until the RMS
   distance changes by less than ``TOL`` mm. Size comes from the weights, not from a scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from footdt.shape.distance import DistanceStats, TriangleSurface
from footdt.shape.ssm import SSM, ShapeError

#: A foot scan's longest side (mm) lies in this range (a foot, perhaps with some leg).
PLAUSIBLE_MM = (150.0, 600.0)
MIRROR_RATIO = 0.6  # a mirrored start this much better (RMS ratio) means the other foot
ALIGN_POINTS = 800  # model points used by the rigid + scale starts
SCREEN_STEPS = 8  # closest-point iterations that screen each start
OUTLIER, OUTLIER_FLOOR = 3.0, 5.0  # pairs further than max(3 x median, 5 mm) are left out
TOL = 1e-3  # mm
PRIOR = 1.0  # weight of |w|^2 against the sum of squared distances (mm^2)
TANGENTIAL = 0.05  # weight of the point-to-point part of the residual


@dataclass(frozen=True)
class Scan:
    """A checked scan surface in mm (the side already mirrored to a right foot)."""

    path: Path
    points: np.ndarray
    triangles: np.ndarray
    rim: np.ndarray  # vertex ids on the open rim (the leg opening), maybe empty
    mirrored: bool


def _boundary_loops(triangles: np.ndarray) -> list[np.ndarray]:
    """Vertex ids of each boundary loop (edges used by one triangle), as connected components."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = np.sort(triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    uniq, count = np.unique(edges, axis=0, return_counts=True)
    if np.any(count > 2):
        bad = uniq[count > 2][0]
        raise ShapeError(
            f"{int(np.sum(count > 2))} edge(s) are shared by more than two triangles (e.g. vertices "
            f"{bad.tolist()}): not a surface; clean the scan (remove duplicate faces) and retry"
        )
    rim = uniq[count == 1]
    if not len(rim):
        return []
    ids, local = np.unique(rim, return_inverse=True)
    local = local.reshape(-1, 2)
    graph = coo_matrix((np.ones(len(local)), (local[:, 0], local[:, 1])), shape=(len(ids),) * 2)
    n, label = connected_components(graph, directed=False)
    return [ids[label == k] for k in range(n)]


def read_scan(path: str | Path, scale: float = 1.0, side: str = "right") -> Scan:
    """Read and check a scan (see module doc); ``ShapeError`` with what to do if unusable."""
    from footdt.anatomy.user_surfaces import merge_vertices, read_triangles

    path = Path(path)
    where = f"scan {path}"
    points, tris = read_triangles(path)
    points = np.asarray(points, dtype=float) * scale
    longest = float(np.ptp(points, axis=0).max())
    lo, hi = PLAUSIBLE_MM
    if not lo <= longest <= hi:
        hint = ""
        for factor, unit in ((1000.0, "m"), (10.0, "cm"), (25.4, "inch")):
            if lo <= longest * factor <= hi:
                hint = f"; it looks like {unit}: set `scale: {factor * scale:g}`"
                break
        raise ShapeError(
            f"{where}: longest side {longest:.4g} mm after `scale: {scale:g}`, but a foot scan is "
            f"{lo:g}-{hi:g} mm{hint}"
        )
    points, tris = merge_vertices(points, tris, 1e-6 * longest)
    mirrored = side == "left"
    if mirrored:
        points = points * np.array([1.0, -1.0, 1.0])
        tris = tris[:, [0, 2, 1]]
    loops = sorted(_boundary_loops(tris), key=len, reverse=True)
    if len(loops) > 1:
        hole = loops[1]
        span = float(np.ptp(points[hole], axis=0).max())
        at = np.round(points[hole].mean(axis=0), 1).tolist()
        raise ShapeError(
            f"{where} has {len(loops) - 1} hole(s) besides its opening at the leg (the largest "
            f"{span:.1f} mm across, near {at} mm in the file's frame); close them (e.g. MeshLab: "
            "Filters > Remeshing > Close Holes) and retry"
        )
    rim = loops[0] if loops else np.zeros(0, dtype=np.int64)
    return Scan(path, points, tris.astype(np.int64), rim, mirrored)


@dataclass
class ScanFit:
    """Weights (SD units), the scan moved into the foot frame, and the fit's distances (mm)."""

    weights: np.ndarray
    rotation: np.ndarray  # scan frame -> foot frame: x_foot = R x_scan + t
    translation: np.ndarray
    surface: TriangleSurface  # the scan in the foot frame
    model_to_scan: DistanceStats
    scan_to_model: DistanceStats
    iterations: int
    start_rms: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "model_to_scan_mm": {k: round(v, 4) for k, v in vars(self.model_to_scan).items()},
            "scan_to_model_mm": {k: round(v, 4) for k, v in vars(self.scan_to_model).items()},
            "iterations": self.iterations,
            "alignment_start_rms_mm": {k: round(v, 3) for k, v in self.start_rms.items()},
        }


def _axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - c, full_matrices=False)
    return c, vt  # rows: principal axes, largest first


def _similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares s, R, t with dst ~ s R src + t (Umeyama)."""
    from scipy.spatial.transform import Rotation

    cs, cd = src.mean(axis=0), dst.mean(axis=0)
    rot, _ = Rotation.align_vectors(dst - cd, src - cs)
    r = rot.as_matrix()
    s = float(np.sum((dst - cd) * ((src - cs) @ r.T)) / np.sum((src - cs) ** 2))
    return s, r, cd - s * r @ cs


def _icp(model: np.ndarray, tree: Any, target: np.ndarray, steps: int) -> tuple[np.ndarray, float]:
    """A few closest-point rigid + scale iterations (Umeyama) of ``model`` onto ``target``."""
    moved = model
    for _ in range(steps):
        _, idx = tree.query(moved)
        s, r, t = _similarity(moved, target[idx])
        moved = s * moved @ r.T + t
    d, _ = tree.query(moved)
    return moved, float(np.sqrt(np.mean(d**2)))


def _align(model: np.ndarray, scan: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """Rigid + scale starts (model -> scan) from the principal axes: the eight sign choices are
    screened by a few closest-point iterations, then the best proper and the best mirrored one
    are refined by gias3's registration."""
    from gias3.registration.alignment_fitting import fitDataRigidScaleEPDP
    from scipy.spatial import cKDTree

    cm, am = _axes(model)
    cs, as_ = _axes(scan)
    sample = scan[rng.choice(len(scan), size=min(len(scan), 20000), replace=False)]
    tree = cKDTree(sample)
    few = model[rng.choice(len(model), size=min(len(model), ALIGN_POINTS), replace=False)]
    size = np.sqrt(np.sum(np.var(scan, axis=0)) / np.sum(np.var(model, axis=0)))
    screened: dict[str, tuple[float, np.ndarray]] = {}
    for signs in np.array(np.meshgrid([1, -1], [1, -1], [1, -1])).T.reshape(-1, 3):
        r0 = as_.T @ np.diag(signs) @ am  # model axes -> scan axes
        key = "proper" if np.linalg.det(r0) > 0 else "mirrored"
        moved, rms = _icp((few - cm) @ r0.T * size + cs, tree, sample, SCREEN_STEPS)
        if key not in screened or rms < screened[key][0]:
            screened[key] = (rms, moved)
    out: dict[str, Any] = {}
    for key, (_, start) in screened.items():
        _, fitted, (_, rms) = fitDataRigidScaleEPDP(start, sample, xtol=1e-5, output_errors=1)
        s, r, t = _similarity(few, np.asarray(fitted))
        out[key] = {"rms": float(rms), "s": s, "r": r, "t": t}
    return out


def _subset(near: Any, keep: np.ndarray) -> Any:
    from footdt.shape.distance import SurfaceDistance

    return SurfaceDistance(near.distances[keep], near.points[keep], near.triangles[keep],
                           near.barycentric[keep])  # fmt: skip


def _kept(near: Any, triangles: np.ndarray, rim: np.ndarray) -> np.ndarray:
    """Pairs to fit: not on the scan's open rim, not further than OUTLIER x the median."""
    used = near.barycentric > 1e-6
    on_rim = (rim[triangles[near.triangles]] | ~used).all(axis=1)
    limit = max(OUTLIER * float(np.median(near.distances)), OUTLIER_FLOOR)
    return ~on_rim & (near.distances <= limit)


def _step(
    x: np.ndarray, a: np.ndarray, c: np.ndarray, n: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Gauss-Newton step for the weights and a small rigid motion of the model: minimise
    sum_i (n_i . (x_i + A_i dw + om x x_i + tau - c_i))^2 + TANGENTIAL |...|^2
    + PRIOR |w + dw|^2 (point-to-plane with a little point-to-point)."""
    from scipy.spatial.transform import Rotation

    m, k = len(x), a.shape[2]
    skew = np.zeros((m, 3, 3))  # om x x_i = -[x_i]_x om
    skew[:, 0, 1], skew[:, 0, 2] = x[:, 2], -x[:, 1]
    skew[:, 1, 0], skew[:, 1, 2] = -x[:, 2], x[:, 0]
    skew[:, 2, 0], skew[:, 2, 1] = x[:, 1], -x[:, 0]
    jac = np.concatenate([a, skew, np.broadcast_to(np.eye(3), (m, 3, 3))], axis=2)  # (m, 3, k+6)
    res = x - c
    proj = np.einsum("mi,mij->mj", n, jac)
    lhs = proj.T @ proj + TANGENTIAL * np.einsum("mij,mil->jl", jac, jac)
    rhs = proj.T @ np.einsum("mi,mi->m", n, res) + TANGENTIAL * np.einsum("mij,mi->j", jac, res)
    lhs[:k, :k] += PRIOR * np.eye(k)
    rhs[:k] += PRIOR * w
    step = -np.linalg.solve(lhs, rhs)
    rot = Rotation.from_rotvec(step[k : k + 3]).as_matrix()
    return step[:k], rot, step[k + 3 :]


def fit_scan(ssm: SSM, scan: Scan, iterations: int = 60, seed: int = 0) -> ScanFit:
    """Fit the shape model to a scan (see module doc)."""
    rng = np.random.default_rng(seed)
    mean = ssm.mean[: 3 * ssm.n_skin].reshape(-1, 3)
    starts = _align(mean, scan.points, rng)
    proper, mirrored = starts["proper"], starts["mirrored"]
    if mirrored["rms"] < MIRROR_RATIO * proper["rms"]:
        other = "right" if scan.mirrored else "left"
        raise ShapeError(
            f"scan {scan.path}: it fits the model as a mirrored foot (RMS {mirrored['rms']:.1f} "
            f"vs {proper['rms']:.1f} mm): it looks like a {other} foot; set `side: {other}`"
        )
    # scan -> foot frame: the inverse of the model -> scan similarity, without its scale
    r = proper["r"].T
    t = -r @ proper["t"] / proper["s"]
    basis = (ssm.modes[:, : 3 * ssm.n_skin] * ssm.sd[:, None]).T  # (3P, k) mm per SD
    k = ssm.n_modes
    w = np.zeros(k)
    rim = np.zeros(len(scan.points), dtype=bool)
    rim[scan.rim] = True
    prev, it = np.inf, 0
    for it in range(1, iterations + 1):  # noqa: B007
        surf = TriangleSurface(scan.points @ r.T + t, scan.triangles)
        x = mean + (basis @ w).reshape(-1, 3)
        near = surf.query(x)
        keep = _kept(near, scan.triangles, rim)
        rms = float(np.sqrt(np.mean(near.distances[keep] ** 2)))
        if abs(prev - rms) < TOL:
            break
        prev = rms
        dw, rot, shift = _step(x[keep], basis.reshape(-1, 3, k)[keep], near.points[keep],
                               surf.normals_at(x[keep], _subset(near, keep)), w)  # fmt: skip
        w = w + dw
        # the model moved by (rot, shift) about the origin: move the scan by the inverse instead
        r, t = rot.T @ r, rot.T @ (t - shift)
    moved = scan.points @ r.T + t
    surf = TriangleSurface(moved, scan.triangles)
    x = mean + (basis @ w).reshape(-1, 3)
    model_surface = TriangleSurface(x, ssm.triangles)
    back = model_surface.query(moved[~rim]).stats()
    warnings = []
    if back.p95 > 5.0:
        warnings.append(
            f"scan {scan.path}: 5 % of the scan lies more than {back.p95:.1f} mm from the fitted "
            "shape (does the scan include much of the leg, or the floor?)"
        )
    return ScanFit(
        weights=w, rotation=r, translation=t, surface=surf,
        model_to_scan=surf.query(x).stats(), scan_to_model=back, iterations=it,
        start_rms={"proper": proper["rms"], "mirrored": mirrored["rms"]}, warnings=warnings,
    )  # fmt: skip
