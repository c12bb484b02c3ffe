"""User surfaces with the leg cut above the ankle: tibia and fibula reaching the skin's proximal end.

The synthetic foot: a box-like skin (200 x 90 x 120 mm, flat top at z = 120 mm), ellipsoid bones;
the tibia and fibula cross the top. Checked: the plane cut of closed surfaces, which inputs are
accepted (closed or open skin and leg bones, an explicit cut_height) and refused (naming the
bone), the conforming mesh with bone and tissue faces in ``proximal_cut``, and an sfepy solve
with the proximal cut fixed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from footdt.anatomy.trimesh_checks import boundary_loops, clip_below, fan_caps, open_edges
from footdt.anatomy.user_surfaces import TriSurface, load_user_surfaces
from footdt.domain import SOFT_TISSUE
from footdt.errors import MeshError
from footdt.ir import TET_FACES
from footdt.mesh.faces import boundary_faces, face_keys
from footdt.mesh.foot import mesh_foot
from footdt.mesh.topology import face_centroids_normals
from footdt.spec.geometry import UserSurfaces
from footdt.spec.subject import MeshOptions
from tests.anatomy.foot_fixtures import icosphere, write_surface

TOP = 120.0  # mm, the skin box's flat top
Surface = tuple[np.ndarray, np.ndarray]


def box(size: tuple[float, float, float], centre: tuple[float, float, float]) -> Surface:
    """A closed box-like surface: an icosphere projected radially onto a cube (flat faces)."""
    p, t = icosphere(1.0, level=4)
    p = p / np.abs(p).max(axis=1, keepdims=True)
    return p * np.asarray(size) / 2 + np.asarray(centre), t


def stadium_prism(length: float, width: float, height: float, step: float = 6.0) -> Surface:
    """A closed prism over a stadium outline (x along the length, centred at x = y = 0) from
    z = 0 to ``height``: vertical sides with sharp rims and flat fan-triangulated caps."""
    r, half = width / 2, (length - width) / 2
    perimeter = 4 * half + 2 * np.pi * r
    s = np.linspace(0.0, perimeter, int(perimeter / step), endpoint=False)
    xy = np.empty((len(s), 2))
    for i, t in enumerate(s):  # counter-clockwise seen from above, starting at (-half, -r)
        if t < 2 * half:
            xy[i] = (-half + t, -r)
        elif t < 2 * half + np.pi * r:
            a = -np.pi / 2 + (t - 2 * half) / r
            xy[i] = (half + r * np.cos(a), r * np.sin(a))
        elif t < 4 * half + np.pi * r:
            xy[i] = (half - (t - 2 * half - np.pi * r), r)
        else:
            a = np.pi / 2 + (t - 4 * half - np.pi * r) / r
            xy[i] = (-half + r * np.cos(a), r * np.sin(a))
    n, zs = len(xy), np.linspace(0.0, height, int(height / step) + 1)
    rings = np.vstack([np.column_stack([xy, np.full(n, z)]) for z in zs])
    points = np.vstack([rings, [[0.0, 0.0, 0.0], [0.0, 0.0, height]]])
    j, k = np.arange(n), (np.arange(n) + 1) % n
    tris = []
    for i in range(len(zs) - 1):
        a, b = i * n, (i + 1) * n
        tris += [np.column_stack([a + j, a + k, b + k]), np.column_stack([a + j, b + k, b + j])]
    bottom, top, last = len(rings), len(rings) + 1, (len(zs) - 1) * n
    tris += [np.column_stack([np.full(n, bottom), k, j])]
    tris += [np.column_stack([np.full(n, top), last + j, last + k])]
    return points, np.vstack(tris).astype(np.int64)


def ellipsoid(radii: tuple[float, float, float], centre: tuple[float, float, float]) -> Surface:
    p, t = icosphere(1.0, level=3)
    return p * np.asarray(radii) + np.asarray(centre), t


def foot(**override: Surface | None) -> dict[str, Surface]:
    """Skin and bones of the synthetic foot; ``override`` replaces (or with None removes) one."""
    parts: dict[str, Surface | None] = {
        "skin": stadium_prism(200.0, 90.0, TOP),
        "tibia": ellipsoid((14.0, 14.0, 50.0), (-50.0, 0.0, 110.0)),  # z 60..160
        "fibula": ellipsoid((6.0, 6.0, 50.0), (-50.0, -28.0, 110.0)),  # z 60..160
        "calcaneus": ellipsoid((30.0, 18.0, 18.0), (-55.0, 0.0, 28.0)),
        "metatarsal_1": ellipsoid((30.0, 7.0, 7.0), (40.0, 20.0, 25.0)),
    }
    parts.update(override)
    return {k: v for k, v in parts.items() if v is not None}


def write_foot(tmp_path: Path, parts: dict[str, Surface], **kw: object) -> UserSurfaces:
    tmp_path.mkdir(parents=True, exist_ok=True)
    files = {k: write_surface(tmp_path / f"{k}.stl", *v) for k, v in parts.items()}
    skin = files.pop("skin")
    return UserSurfaces(type="surfaces", skin=skin, bones=files, **kw)


def without_triangles_above(surface: Surface, z: float) -> Surface:
    """An open surface: drop every triangle with a vertex above z (a ragged opening)."""
    p, t = surface
    return p, t[(p[t][:, :, 2] <= z).all(axis=1)]


def without_top_face(surface: Surface) -> Surface:
    """An open surface: drop the triangles of its flat top (an opening at z = max)."""
    p, t = surface
    return p, t[(p[t][:, :, 2] < p[:, 2].max()).any(axis=1)]


def cap_area(s: TriSurface) -> float:
    p = s.points[s.triangles[len(s.triangles) - s.n_cap :]]
    return float(0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1).sum())


# --- the plane cut of a closed triangle surface ------------------------------------------------


@pytest.mark.parametrize("height", [0.0, 5.0, -7.3])
def test_clip_below_leaves_one_planar_outline_and_the_right_volume(height: float) -> None:
    r = 10.0
    points, tris = icosphere(r, level=4)
    p, t = clip_below(points, tris, height, 1e-9)
    assert p[:, 2].max() == pytest.approx(height, abs=1e-12)
    loops = boundary_loops(t)
    assert len(loops) == 1 and np.all(p[loops[0], 2] == height)
    cp, ct = fan_caps(p, t, loops)
    assert len(open_edges(ct)) == 0  # watertight and consistently oriented after capping
    volume = np.einsum("ij,ij->i", cp[ct[:, 0]], np.cross(cp[ct[:, 1]], cp[ct[:, 2]])).sum() / 6
    h = r + height  # spherical cap of height h below the plane
    assert volume == pytest.approx(np.pi * h**2 * (3 * r - h) / 3, rel=0.01)


def test_clip_at_a_face_plane_drops_the_face_and_keeps_the_rest_exactly() -> None:
    points, tris = box((20.0, 10.0, 30.0), (0.0, 0.0, 15.0))
    p, t = clip_below(points, tris, 30.0, 1e-9)
    kept = (points[tris][:, :, 2] < 30.0).any(axis=1)  # every triangle not in the top face
    assert len(t) == kept.sum()
    cp, ct = fan_caps(p, t, boundary_loops(t))
    volume = np.einsum("ij,ij->i", cp[ct[:, 0]], np.cross(cp[ct[:, 1]], cp[ct[:, 2]])).sum() / 6
    closed = np.einsum(
        "ij,ij->i", points[tris[:, 0]], np.cross(points[tris[:, 1]], points[tris[:, 2]])
    )
    assert volume == pytest.approx(closed.sum() / 6, rel=1e-12)


# --- which inputs are accepted ---------------------------------------------------------------


def test_tibia_and_fibula_crossing_a_capped_skin_are_cut_at_its_top(tmp_path: Path) -> None:
    user = load_user_surfaces(write_foot(tmp_path, foot()))
    assert user.cut_z == pytest.approx(TOP)
    for leg, (a, zc) in {"tibia": (14.0, 110.0), "fibula": (6.0, 110.0)}.items():
        s = user.bones[leg]
        assert s.n_cap > 0 and s.points[:, 2].max() == pytest.approx(TOP)
        # ellipsoid below z = TOP: V = pi a^2 (c + d)^2 (2c - d) / (3 c^2), c = 50, d = TOP - zc
        c, d = 50.0, TOP - zc
        exact = np.pi * a * a * (c + d) ** 2 * (2 * c - d) / (3 * c * c)
        assert s.volume() == pytest.approx(exact, rel=0.03)
        assert cap_area(s) == pytest.approx(np.pi * a * a * (1 - (d / c) ** 2), rel=0.03)
    assert user.bones["calcaneus"].n_cap == 0 and user.skin.n_cap > 0
    points, tris = foot()["skin"]  # cut at its own top face: the same prism
    closed = np.einsum(
        "ij,ij->i", points[tris[:, 0]], np.cross(points[tris[:, 1]], points[tris[:, 2]])
    )
    assert user.skin.volume() == pytest.approx(closed.sum() / 6, rel=1e-9)


def test_open_skin_and_ragged_open_leg_bones_give_the_same_cut(tmp_path: Path) -> None:
    closed = load_user_surfaces(write_foot(tmp_path / "closed", foot()))
    parts = foot()
    opened = foot(
        skin=without_top_face(parts["skin"]),
        tibia=without_triangles_above(parts["tibia"], 140.0),
        fibula=without_triangles_above(parts["fibula"], 135.0),
    )
    assert all(len(open_edges(opened[k][1])) for k in ("skin", "tibia", "fibula"))
    user = load_user_surfaces(write_foot(tmp_path / "open", opened))
    assert user.cut_z == pytest.approx(TOP)
    for name in ("tibia", "fibula"):
        assert user.bones[name].volume() == pytest.approx(closed.bones[name].volume(), rel=1e-9)
    assert user.skin.volume() == pytest.approx(closed.skin.volume(), rel=1e-9)


def test_closed_leg_bones_capped_in_the_skin_top_plane_or_above_it(tmp_path: Path) -> None:
    """Segmentations often close a bone with a cap in the cut plane itself, coplanar with the
    skin's cap: that cap is dropped and the bone ends open in the cut."""

    def cylinder(radius: float, x: float, y: float, z0: float, z1: float) -> Surface:
        p, t = stadium_prism(2 * radius, 2 * radius, z1 - z0, step=3.0)
        return p + np.array([x, y, z0]), t

    def volume(s: Surface) -> float:
        p, t = s
        return float(np.einsum("ij,ij->i", p[t[:, 0]], np.cross(p[t[:, 1]], p[t[:, 2]])).sum() / 6)

    tibia, fibula = cylinder(14.0, -50.0, 0.0, 60.0, TOP), cylinder(6.0, -50.0, -28.0, 60.0, 150.0)
    user = load_user_surfaces(write_foot(tmp_path, foot(tibia=tibia, fibula=fibula)))
    assert user.cut_z == pytest.approx(TOP)
    assert user.bones["tibia"].n_cap > 0 and user.bones["fibula"].n_cap > 0
    assert user.bones["tibia"].volume() == pytest.approx(volume(tibia), rel=1e-9)
    assert user.bones["fibula"].volume() == pytest.approx(volume(fibula) * 60 / 90, rel=1e-9)


def test_cut_height_cuts_a_rounded_skin(tmp_path: Path) -> None:
    rounded = ellipsoid((110.0, 50.0, 80.0), (0.0, 0.0, 70.0))  # z -10..150, no flat top
    parts = foot(skin=rounded, tibia=ellipsoid((14.0, 14.0, 50.0), (-50.0, 0.0, 130.0)))
    with pytest.raises(MeshError, match="the tibia crosses the skin surface.*cut_height"):
        load_user_surfaces(write_foot(tmp_path, parts))
    user = load_user_surfaces(write_foot(tmp_path, parts, cut_height=120.0))
    assert user.cut_z == pytest.approx(-10.0 + 120.0)
    assert user.bones["tibia"].points[:, 2].max() == pytest.approx(110.0)
    assert user.bones["fibula"].n_cap > 0


def test_legs_below_a_flat_top_are_not_cut(tmp_path: Path) -> None:
    parts = foot(
        tibia=ellipsoid((14.0, 14.0, 25.0), (-50.0, 0.0, 90.0)),
        fibula=ellipsoid((6.0, 6.0, 25.0), (-50.0, -28.0, 90.0)),
    )
    user = load_user_surfaces(write_foot(tmp_path, parts))
    assert user.cut_z is None and all(s.n_cap == 0 for s in user.bones.values())


# --- which inputs are refused, naming the bone -----------------------------------------------


@pytest.mark.parametrize(
    ("override", "kw", "message"),
    [
        (  # only the tibia and fibula may reach the cut
            {"talus": ellipsoid((15.0, 12.0, 20.0), (0.0, 0.0, 110.0))},
            {},
            r"the talus \(.*talus.stl\) reaches the proximal cut at z = 120.0 mm; only the tibia",
        ),
        (  # a tibia leaving through the back of the leg below the cut
            {"tibia": ellipsoid((60.0, 14.0, 14.0), (-50.0, 0.0, 100.0))},
            {},
            "the tibia crosses the skin surface",
        ),
        (  # another bone through the side of the skin while the legs are cut
            {"cuboid": ellipsoid((10.0, 20.0, 8.0), (30.0, -40.0, 30.0))},
            {},
            "the cuboid crosses the skin surface",
        ),
        (  # tibia and fibula overlapping up to the cut
            {"fibula": ellipsoid((8.0, 8.0, 50.0), (-50.0, -18.0, 110.0))},
            {},
            "the tibia and the fibula overlap",
        ),
        (  # a skin whose opening is not a flat top
            {"skin": without_triangles_above(ellipsoid((110.0, 50.0, 80.0), (0, 0, 70)), 140.0)},
            {},
            r"'skin' \(.*skin.stl\) is open at z 1.*cut_height",
        ),
        (  # a hole in the tibia below the cut
            {
                "tibia": (lambda p, t: (p, t[(p[t][:, :, 2] > 75.0).any(axis=1)]))(
                    *ellipsoid((14.0, 14.0, 50.0), (-50.0, 0.0, 110.0))
                )
            },
            {},
            r"'tibia' \(.*tibia.stl\) is not watertight below the proximal cut at z = 120.0 mm",
        ),
        ({}, {"cut_height": 130.0}, "cut_height 130 mm is not below the top of the skin"),
        (  # a fibula entirely above the cut
            {"fibula": ellipsoid((6.0, 6.0, 20.0), (-50.0, -28.0, 150.0))},
            {"cut_height": 100.0},
            r"'fibula' \(.*fibula.stl\) lies entirely above the proximal cut",
        ),
    ],
)
def test_refusals_name_the_bone(
    tmp_path: Path, override: dict[str, Surface], kw: dict[str, float], message: str
) -> None:
    with pytest.raises(MeshError, match=message):
        load_user_surfaces(write_foot(tmp_path, foot(**override), **kw))


# --- meshing and solving ----------------------------------------------------------------------


def _faces_at(mesh_nodes: np.ndarray, elements: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = np.take_along_axis(elements[faces[:, 0], :4], np.asarray(TET_FACES)[faces[:, 1]], axis=1)
    return mesh_nodes[tri]


@pytest.fixture(scope="module")
def cut_mesh(tmp_path_factory: pytest.TempPathFactory):
    spec = write_foot(tmp_path_factory.mktemp("cut"), foot())
    options = MeshOptions(size=6.0, part_sizes={"tibia": 3.0, "fibula": 2.0})
    return mesh_foot(spec, options), load_user_surfaces(spec)


def test_cut_mesh_is_conforming_and_the_leg_bones_end_in_the_proximal_cut(cut_mesh) -> None:
    mesh, user = cut_mesh
    assert set(mesh.parts) == {"tibia", "fibula", "calcaneus", "metatarsal_1", SOFT_TISSUE}
    part_of = np.empty(len(mesh.elements), dtype=object)
    for part, elems in mesh.parts.items():
        part_of[elems] = part
    keys = face_keys(mesh.elements)
    outer = set(keys[(boundary_faces(mesh.elements) * [4, 1]).sum(axis=1)].tolist())
    for bone in ("tibia", "fibula", "calcaneus", "metatarsal_1"):
        own = boundary_faces(mesh.elements[mesh.parts[bone]])
        own[:, 0] = mesh.parts[bone][own[:, 0]]
        k = keys[own[:, 0] * 4 + own[:, 1]]
        on_cut = np.all(np.isclose(_faces_at(mesh.nodes, mesh.elements, own)[:, :, 2], TOP), axis=1)
        # conforming: every face of a bone's boundary is shared with a tissue element, except the
        # bone's faces in the cut plane, which are on the outer boundary of the whole mesh
        shared = ~np.isin(k, list(outer))
        assert np.all(shared | on_cut) and np.all(shared != on_cut)
        assert on_cut.any() == (bone in ("tibia", "fibula"))
    cut = mesh.surfaces["proximal_cut"]
    tri = _faces_at(mesh.nodes, mesh.elements, cut)
    assert np.allclose(tri[:, :, 2], TOP)
    _, normals, areas = face_centroids_normals(mesh.nodes, mesh.elements, cut)
    assert np.all(normals[:, 2] > 0.999)
    parts = part_of[cut[:, 0]]
    assert set(parts) == {"tibia", "fibula", SOFT_TISSUE}
    for leg in ("tibia", "fibula"):  # each bone's faces fill its section of the plane (remeshed
        # outline: a polygon of ~2-3 mm edges inscribed in the input's)
        assert areas[parts == leg].sum() == pytest.approx(cap_area(user.bones[leg]), rel=0.04)
    assert areas.sum() == pytest.approx(cap_area(user.skin), rel=0.005)  # all fill the skin's
    skin = mesh.surfaces["skin"]
    assert not np.isin(part_of[skin[:, 0]], ["tibia", "fibula", "calcaneus"]).any()
    volumes = mesh.info["cad_volumes"]
    assert volumes["tibia"] == pytest.approx(user.bones["tibia"].volume())
    from footdt.mechanics import tet_volumes

    for part in ("tibia", SOFT_TISSUE):
        meshed = tet_volumes(mesh.nodes, mesh.elements[mesh.parts[part]]).sum()
        assert meshed == pytest.approx(volumes[part], rel=0.03)


SPEC = """\
kind: subject
id: cut_user
trial: t1
geometry:
  type: surfaces
  skin: skin.stl
  bones: {tibia: tibia.stl, fibula: fibula.stl, calcaneus: calcaneus.stl, metatarsal_1: metatarsal_1.stl}
mesh: {size: 8.0}
materials:
  bone: {E: 7300.0, nu: 0.3}
  soft_tissue: {E: 1.15, nu: 0.45}
sections:
  - {part: tibia, material: bone}
  - {part: fibula, material: bone}
  - {part: calcaneus, material: bone}
  - {part: metatarsal_1, material: bone}
  - {part: soft_tissue, material: soft_tissue}
boundary_conditions:
  - {name: proximal_cut_fixed, on: proximal_cut, dofs: [x, y, z]}
phases:
  - name: mid_stance
    pressures:
      - {surface: plantar, value: 0.1}
    forces:
      - {on: achilles_insertion, total: [0.0, 0.0, 200.0]}
"""


def test_a_spec_with_cut_leg_bones_solves_with_the_cut_fixed(tmp_path: Path) -> None:
    pytest.importorskip("sfepy")
    from footdt.backends import get_backend
    from footdt.compile import compile_spec
    from footdt.spec.loader import load_spec

    write_foot(tmp_path, foot())
    (tmp_path / "cut.yaml").write_text(SPEC)
    model = compile_spec(load_spec(tmp_path / "cut.yaml"))
    cut = model.surfaces["proximal_cut"]
    fixed = np.unique(_faces_at(model.nodes, model.elements, cut))
    for leg in ("tibia", "fibula"):  # the bones' cut nodes are held, not only the tissue's
        legs = np.isin(cut[:, 0], model.parts[leg])
        assert legs.any()
        assert np.isin(_faces_at(model.nodes, model.elements, cut[legs]).ravel(), fixed).all()
    result = get_backend("sfepy").solve(model, tmp_path / "run")
    phase = result.phases["mid_stance"]
    assert phase.residual is not None and phase.residual < 1e-6
    plantar = model.surfaces["plantar"]
    _, n, a = face_centroids_normals(model.nodes, model.elements, plantar)
    applied = -0.1 * (n * a[:, None]).sum(axis=0) + [0.0, 0.0, 200.0]  # pressure pushes inwards
    assert phase.reaction is not None
    assert np.allclose(phase.reaction, -applied, rtol=1e-3, atol=1e-3 * np.linalg.norm(applied))
    vm = phase.von_mises
    assert np.isfinite(vm).all()
    # the stiff tibia, held at the cut, carries the load: higher stress than the tissue around it
    assert vm[model.parts["tibia"]].mean() > 5 * vm[model.parts[SOFT_TISSUE]].mean()
