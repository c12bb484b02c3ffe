"""Exact point-to-surface distance, and morphing volume meshes with an FFD lattice."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.errors import MeshError
from footdt.mechanics import tet_volumes
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.mesh.quality import QualityLimits, quality_report
from footdt.mesh.structured import box_faces, box_tets
from footdt.mesh.topology import orient_positive
from footdt.shape.distance import (
    DistanceStats,
    TriangleSurface,
    closest_on_triangles,
    point_surface_distance,
)
from footdt.shape.ffd import Lattice, fit_ffd
from footdt.shape.morph import (
    check_morph,
    morph_mesh,
    morph_report,
    morph_to_surface,
    skin_faces,
    skin_surface,
)

# ---------------------------------------------------------------- distance


def _brute_distance(q: np.ndarray, v: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Independent reference: projection onto each triangle's plane if it falls inside, else the
    nearest of its three edges (segment distance); minimum over all triangles."""
    a, b, c = v[t[:, 0]], v[t[:, 1]], v[t[:, 2]]
    n = np.cross(b - a, c - a)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    out = np.empty(len(q))
    for i, p in enumerate(q):
        h = np.einsum("ij,ij->i", p - a, n)
        proj = p - h[:, None] * n
        inside = np.ones(len(t), dtype=bool)
        for s, e in ((a, b), (b, c), (c, a)):
            inside &= np.einsum("ij,ij->i", np.cross(e - s, proj - s), n) >= 0
        best = np.where(inside, np.abs(h), np.inf)
        for s, e in ((a, b), (b, c), (c, a)):
            d = e - s
            u = np.clip(np.einsum("ij,ij->i", p - s, d) / np.einsum("ij,ij->i", d, d), 0, 1)
            best = np.minimum(best, np.linalg.norm(p - (s + u[:, None] * d), axis=1))
        out[i] = best.min()
    return out


def _hull(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.spatial import ConvexHull

    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(n, 3))
    pts = pts / np.linalg.norm(pts, axis=1, keepdims=True) * [60.0, 30.0, 20.0]
    return pts, ConvexHull(pts).simplices


@pytest.mark.parametrize("seed", [0, 1])
def test_distance_matches_brute_force_near_vertices_edges_and_faces(seed: int) -> None:
    v, t = _hull(200, seed)
    rng = np.random.default_rng(seed + 10)
    edge_mid = (v[t[:60, 0]] + v[t[:60, 1]]) / 2
    q = np.vstack(
        [
            rng.normal(size=(200, 3)) * 40.0,  # far inside and outside
            v[:60] + rng.normal(size=(60, 3)) * 0.3,  # near vertices
            edge_mid * 1.02,  # just outside edges
            edge_mid * 0.98,  # just inside edges
            v[t[:60]].mean(axis=1) * (1 + rng.uniform(-0.05, 0.05, (60, 1))),  # near faces
        ]
    )
    result = point_surface_distance(q, v, t)
    assert np.allclose(result.distances, _brute_distance(q, v, t), atol=1e-10)
    assert np.allclose(np.linalg.norm(result.points - q, axis=1), result.distances, atol=1e-10)
    assert np.all(result.barycentric >= -1e-12)
    assert np.allclose(result.barycentric.sum(axis=1), 1.0)
    rebuilt = np.einsum("nk,nkj->nj", result.barycentric, v[t[result.triangles]])
    assert np.allclose(rebuilt, result.points)


def test_distance_with_very_different_triangle_sizes() -> None:
    """A few huge triangles among many small ones: the grouped search still finds the closest."""
    v, t = _hull(400, 3)
    big = np.array([[-500.0, -500.0, 80.0], [500.0, -500.0, 80.0], [0.0, 500.0, 80.0]])
    v2 = np.vstack([v, big])
    t2 = np.vstack([t, [[len(v), len(v) + 1, len(v) + 2]]])
    q = np.random.default_rng(4).normal(size=(300, 3)) * 50.0
    result = point_surface_distance(q, v2, t2)
    assert np.allclose(result.distances, _brute_distance(q, v2, t2), atol=1e-10)


def test_closest_point_on_degenerate_triangles() -> None:
    a = np.array([[0.0, 0, 0], [0, 0, 0]])
    b = np.array([[1.0, 0, 0], [0, 0, 0]])  # a segment, and a point
    c = np.array([[2.0, 0, 0], [0, 0, 0]])
    p = np.array([[1.5, 1.0, 0.0], [3.0, 4.0, 0.0]])
    bary = closest_on_triangles(p, a, b, c)
    closest = bary[:, [0]] * a + bary[:, [1]] * b + bary[:, [2]] * c
    assert np.allclose(closest, np.array([[1.5, 0.0, 0.0], [0.0, 0.0, 0.0]]))


def test_distance_stats() -> None:
    stats = DistanceStats.of(np.arange(101.0))
    assert (stats.mean, stats.p95, stats.max) == (50.0, 95.0, 100.0)
    assert stats.rms == pytest.approx(np.sqrt(np.mean(np.arange(101.0) ** 2)))


def test_normals_are_distance_gradients_whatever_the_orientation() -> None:
    v, t = _hull(300, 5)  # ConvexHull simplices are not consistently oriented
    surface = TriangleSurface(v, t)
    q = np.random.default_rng(6).normal(size=(80, 3)) * 30.0
    normals = surface.normals_at(q, surface.query(q))
    h = 1e-5
    slope = (
        surface.query(q + h * normals).distances - surface.query(q - h * normals).distances
    ) / (2 * h)
    assert np.allclose(np.abs(slope), 1.0, atol=1e-6)
    flipped = TriangleSurface(v, t[:, ::-1])
    assert np.allclose(flipped.normals_at(q, flipped.query(q)), normals)
    on = surface.query(v[t[:5]].mean(axis=1))  # points on faces: the face normal
    face = np.cross(v[t[:5, 1]] - v[t[:5, 0]], v[t[:5, 2]] - v[t[:5, 0]])
    face /= np.linalg.norm(face, axis=1, keepdims=True)
    got = surface.normals_at(v[t[:5]].mean(axis=1), on)
    assert np.allclose(np.abs(np.einsum("ij,ij->i", got, face)), 1.0)


# ---------------------------------------------------------------- morphing


def _block(order: int = 1) -> VolumeMesh:
    """A 40 x 30 x 20 mm block: a 'calcaneus' core in 'soft_tissue', the top face is the cut."""
    lo, hi = np.zeros(3), np.array([40.0, 30.0, 20.0])
    nodes, elements = box_tets((40.0, 30.0, 20.0), (8, 6, 4))
    centre = nodes[elements].mean(axis=1)
    core = np.all((centre > [10.0, 7.5, 5.0]) & (centre < [30.0, 22.5, 15.0]), axis=1)
    named = box_faces(nodes, elements, lo, hi)
    if order == 2:
        nodes, elements = _to_tetra10(nodes, elements)
    skin = np.vstack([named[k] for k in ("xmin", "xmax", "ymin", "ymax", "zmin")])
    return VolumeMesh(
        nodes=nodes,
        elements=elements,
        cell_type="tetra" if order == 1 else "tetra10",
        parts={"calcaneus": np.flatnonzero(core), "soft_tissue": np.flatnonzero(~core)},
        surfaces={"skin": skin, "proximal_cut": named["zmax"]},
        landmarks={"core_centre": np.array([20.0, 15.0, 10.0]), "heel": np.array([0.0, 15.0, 0])},
        info={"cad_volumes": {"calcaneus": 3000.0}, "generator": "test block"},
    )


def _to_tetra10(nodes: np.ndarray, elements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)]  # IR / Abaqus mid-edge order
    edges = np.sort(np.stack([elements[:, [i, j]] for i, j in pairs], axis=1), axis=2)
    uniq, inv = np.unique(edges.reshape(-1, 2), axis=0, return_inverse=True)
    mids = (nodes[uniq[:, 0]] + nodes[uniq[:, 1]]) / 2
    quad = np.hstack([elements, len(nodes) + inv.reshape(-1, 6)])
    return np.vstack([nodes, mids]), quad


def _affine(x: np.ndarray) -> np.ndarray:
    a = np.array([[1.1, 0.05, 0.0], [0.0, 0.9, 0.02], [0.03, 0.0, 1.05]])
    return x @ a.T + [2.0, -1.0, 0.5]


def _target(mesh: VolumeMesh, warp) -> tuple[np.ndarray, np.ndarray]:
    ids, tri = skin_surface(mesh)
    return warp(mesh.nodes[ids]), tri


def test_skin_is_the_named_surface_or_the_boundary_without_the_cut() -> None:
    mesh = _block()
    named = skin_faces(mesh)
    del mesh.surfaces["skin"]
    assert np.array_equal(np.sort(skin_faces(mesh), axis=0), np.sort(named, axis=0))
    ids, tri = skin_surface(mesh)
    assert not np.any(np.isclose(mesh.nodes[ids[np.unique(tri)], 2], 20.0) & False)
    assert np.all(mesh.nodes[ids][tri].mean(axis=1)[:, 2] < 20.0 - 1e-9)


@pytest.mark.parametrize("order", [1, 2])
def test_affine_morph_is_exact_and_keeps_topology(order: int) -> None:
    mesh = _block(order)
    lattice = fit_ffd(mesh.nodes, _affine(mesh.nodes), (3, 3, 3), degree=2)
    morphed = morph_mesh(mesh, lattice)
    assert np.allclose(morphed.nodes, _affine(mesh.nodes), atol=1e-9)
    assert np.array_equal(morphed.elements, mesh.elements)
    assert all(np.array_equal(morphed.parts[k], v) for k, v in mesh.parts.items())
    assert all(np.array_equal(morphed.surfaces[k], v) for k, v in mesh.surfaces.items())
    assert np.allclose(morphed.landmarks["heel"], _affine(mesh.landmarks["heel"][None])[0])
    assert "cad_volumes" not in morphed.info and morphed.info["morph"]["lattice_shape"] == [3, 3, 3]
    if order == 2:  # mid-edge nodes stay mid-edge under an affine map
        x = morphed.nodes[morphed.elements]
        assert np.allclose(x[:, 4], (x[:, 0] + x[:, 1]) / 2, atol=1e-9)
    report = morph_report(mesh, morphed, _target(mesh, _affine))
    det = np.linalg.det(np.array([[1.1, 0.05, 0.0], [0.0, 0.9, 0.02], [0.03, 0.0, 1.05]]))
    assert report.volume_change_pct["calcaneus"] == pytest.approx(100 * (det - 1), abs=1e-9)
    assert report.volume_change_pct["soft_tissue"] == pytest.approx(100 * (det - 1), abs=1e-9)
    assert report.skin.max < 1e-9
    assert report.quality.overall.inverted == 0
    assert report.landmark_shift_mm["heel"] > 1.0
    check_morph(report)  # passes
    assert "skin -> target distance" in report.format_table()
    assert report.as_dict()["inverted"] == 0


def _warp(x: np.ndarray) -> np.ndarray:
    return _affine(x) + np.column_stack(
        [np.zeros(len(x)), 1.5 * np.sin(x[:, 0] / 12.0), 0.01 * (x[:, 0] - 20.0) ** 2]
    )


def test_morph_to_surface_lands_the_skin() -> None:
    mesh = _block()
    target = _target(mesh, _warp)
    morphed, fit = morph_to_surface(mesh, target, (6, 5, 4))
    report = morph_report(mesh, morphed, target)
    assert fit.converged
    assert report.skin.p95 < 0.1
    check_morph(report, max_skin_p95=0.1)
    with pytest.raises(MeshError, match="from the target"):
        check_morph(report, max_skin_p95=report.skin.p95 / 2)


def test_two_sided_matching_keeps_the_open_rim_in_place() -> None:
    """Skin nodes on the rim of the open top can slide along the target and still lie on it;
    matching target vertices back to the template skin pins the rim where it belongs."""
    mesh = _block()
    target = _target(mesh, _warp)
    rim = np.flatnonzero(np.isclose(mesh.nodes[:, 2], 20.0))
    errors = {}
    for two_sided in (False, True):
        morphed, fit = morph_to_surface(mesh, target, (6, 5, 4), two_sided=two_sided)
        assert fit.distance.p95 < 0.1  # both land the skin ...
        errors[two_sided] = np.linalg.norm(morphed.nodes[rim] - _warp(mesh.nodes[rim]), axis=1)
    assert errors[False].max() > 5.0  # ... but one-sided lets the rim slide
    assert errors[True].max() < 1.0


def _squash(mesh: VolumeMesh) -> Lattice:
    """A lattice whose centre control points dive 30 mm down: the core folds over itself."""
    lattice = Lattice.around(mesh.nodes, (5, 5, 5), degree=2, pad=2.0)
    d = np.zeros((5, 5, 5, 3))
    d[2, 2, 3, 2] = -30.0
    return lattice.with_displacements(d)


def test_squashing_morph_is_refused_naming_element_and_part() -> None:
    mesh = _block()
    morphed = morph_mesh(mesh, _squash(mesh))
    report = morph_report(mesh, morphed, _target(mesh, lambda x: x))
    assert report.quality.overall.inverted > 0
    with pytest.raises(MeshError) as err:
        check_morph(report)
    message = str(err.value)
    assert "\n" not in message
    assert "footdt personalise --remesh" in message and "inverts" in message
    worst = report.worst[0]
    assert worst.inverted and f"element {worst.element} ({worst.part}" in message
    assert tet_volumes(morphed.nodes, morphed.elements[[worst.element]])[0] <= 0
    assert worst.element in mesh.parts[worst.part]


def test_flattening_morph_fails_the_quality_gate_without_inverting() -> None:
    mesh = _block()
    flat = fit_ffd(mesh.nodes, mesh.nodes * [1.0, 1.0, 0.01], (2, 2, 2), degree=1)
    report = morph_report(mesh, morph_mesh(mesh, flat), _target(mesh, lambda x: x))
    assert report.quality.overall.inverted == 0
    with pytest.raises(MeshError, match=r"fails the mesh quality gate .*personalise --remesh"):
        check_morph(report)


def test_morph_refuses_a_lattice_that_does_not_cover_the_mesh() -> None:
    mesh = _block()
    small = Lattice.around(mesh.nodes * 0.5, (3, 3, 3), pad=0.0)
    with pytest.raises(MeshError, match="outside the lattice box"):
        morph_mesh(mesh, small)


def test_orientation_is_unchanged_by_a_smooth_morph() -> None:
    mesh = _block()
    target = _target(mesh, lambda x: x * [1.05, 0.95, 1.0])
    morphed, _ = morph_to_surface(mesh, target, (4, 4, 3))
    assert np.array_equal(orient_positive(morphed.nodes, morphed.elements), morphed.elements)


# ---------------------------------------------------------------- the real template


@pytest.fixture(scope="module")
def template() -> VolumeMesh:
    from footdt.mesh.foot import mesh_foot
    from footdt.spec.geometry import FootTemplate
    from footdt.spec.subject import MeshOptions

    return mesh_foot(FootTemplate(type="foot_template"), MeshOptions(size=8))


def test_template_morph_to_a_scaled_foot(template: VolumeMesh) -> None:
    """An anisotropically scaled skin (a longer, narrower, lower foot). Skin alone does not pin
    down how the inside moves, but the bending penalty prefers the affine map, which fits
    exactly: the closest-point fit must find it, so every node (bones included) lands where the
    scale puts it and every part's volume changes by det(S) - 1."""
    scale = np.array([1.06, 0.95, 0.97])
    centre = template.nodes.mean(axis=0)

    def scaled(x: np.ndarray) -> np.ndarray:
        return centre + (x - centre) * scale

    target = _target(template, scaled)
    morphed, fit = morph_to_surface(template, target, two_sided=True)
    report = morph_report(template, morphed, target)
    assert fit.converged
    assert report.skin.max < 0.05
    assert np.abs(morphed.nodes - scaled(template.nodes)).max() < 0.1
    expected = 100 * (np.prod(scale) - 1)
    for bone in ("calcaneus", "talus", "metatarsal_1", "tibia", "soft_tissue"):
        assert report.volume_change_pct[bone] == pytest.approx(expected, abs=0.05)
    heel = template.landmarks["heel_posterior"]
    assert np.abs(morphed.landmarks["heel_posterior"] - scaled(heel[None])[0]).max() < 0.1
    # at 8 mm the small bones have a few dozen elements, some already near the 5° sliver angle:
    # a 1 % sliver fraction is one element there, so judge the morph by inversion and angles
    check_morph(report, QualityLimits(max_sliver_fraction=0.05))
    before = quality_report(template).overall.min_dihedral_deg
    assert report.quality.overall.min_dihedral_deg > 0.8 * before
