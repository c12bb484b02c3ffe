"""User surfaces: reading, scaling, mirroring, validation errors naming the bone, meshing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from footdt.anatomy.user_surfaces import load_surface, load_user_surfaces, read_vtp
from footdt.domain import SOFT_TISSUE
from footdt.errors import MeshError
from footdt.mesh.faces import interface_faces
from footdt.mesh.foot import mesh_foot
from footdt.spec.geometry import UserSurfaces
from footdt.spec.subject import MeshOptions
from tests.anatomy.foot_fixtures import OPENSIM_DIR, icosphere, write_surface


def _spec(
    tmp_path: Path, bones: dict[str, tuple[float, tuple[float, float, float]]], **kw: object
) -> UserSurfaces:
    skin = write_surface(tmp_path / "skin.stl", *icosphere(50.0, (0, 0, 50), level=3))
    files = {
        b: write_surface(tmp_path / f"{b}.ply", *icosphere(r, c)) for b, (r, c) in bones.items()
    }
    return UserSurfaces(type="surfaces", skin=skin, bones=files, **kw)


@pytest.mark.parametrize("suffix", [".stl", ".ply", ".obj"])
def test_closed_sphere_loads_outward_in_mm(tmp_path: Path, suffix: str) -> None:
    points, tris = icosphere(0.02, level=3)  # metres
    path = write_surface(tmp_path / f"ball{suffix}", points, tris[:, [0, 2, 1]])  # inward triangles
    s = load_surface(path, "talus", scale=1000.0)
    assert s.volume() == pytest.approx(4 / 3 * np.pi * 20.0**3, rel=0.03)  # oriented outward
    assert np.linalg.norm(s.points, axis=1).max() == pytest.approx(20.0)


def test_open_sphere_is_rejected_with_the_bone_name(tmp_path: Path) -> None:
    points, tris = icosphere(10.0)
    path = write_surface(tmp_path / "open.stl", points, tris[1:])
    with pytest.raises(
        MeshError, match=r"user surface 'cuboid' \(.*open.stl\) is not watertight: 3 edge"
    ):
        load_surface(path, "cuboid")


def test_self_intersecting_surface_is_rejected(tmp_path: Path) -> None:
    points, tris = icosphere(10.0)
    points[0] = -1.3 * points[0]  # push one vertex through the far side
    path = write_surface(tmp_path / "folded.obj", points, tris)
    with pytest.raises(MeshError, match="'navicular' .* intersects itself"):
        load_surface(path, "navicular")


def test_two_shells_in_one_file_are_rejected(tmp_path: Path) -> None:
    a, ta = icosphere(5.0, (0, 0, 0), level=2)
    b, tb = icosphere(5.0, (20, 0, 0), level=2)
    path = write_surface(tmp_path / "two.stl", np.vstack([a, b]), np.vstack([ta, tb + len(a)]))
    with pytest.raises(MeshError, match="2 separate shells"):
        load_surface(path, "talus")


def test_overlapping_bones_are_rejected_naming_both(tmp_path: Path) -> None:
    spec = _spec(tmp_path, {"calcaneus": (12.0, (-10, 0, 40)), "talus": (10.0, (5, 0, 45))})
    with pytest.raises(MeshError, match="the calcaneus and the talus overlap"):
        load_user_surfaces(spec)


def test_bone_inside_another_bone_is_an_overlap(tmp_path: Path) -> None:
    spec = _spec(tmp_path, {"calcaneus": (15.0, (0, 0, 40)), "talus": (5.0, (0, 0, 40))})
    with pytest.raises(MeshError, match="overlap"):
        load_user_surfaces(spec)


def test_bones_must_lie_inside_the_skin(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="the tibia crosses the skin"):
        load_user_surfaces(_spec(tmp_path, {"tibia": (10.0, (0, 0, 95))}))
    with pytest.raises(MeshError, match="the fibula lies outside the skin"):
        load_user_surfaces(_spec(tmp_path, {"fibula": (5.0, (0, 0, 200))}))


def test_left_foot_is_mirrored_into_the_right_foot_frame(tmp_path: Path) -> None:
    points, tris = icosphere(10.0, (0, 0, 0), level=2)
    points = points * [3.0, 1.0, 1.0] + [0.0, 25.0, 0.0]  # an ellipsoid off to +y
    path = write_surface(tmp_path / "left.stl", points, tris)
    right = load_surface(path, "metatarsal_1")
    left = load_surface(path, "metatarsal_1", mirror=True)
    assert np.allclose(np.sort(left.points[:, 1]), np.sort(-right.points[:, 1]))
    assert left.volume() == pytest.approx(right.volume()) and left.volume() > 0


def test_user_surfaces_mesh_conforming(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        {"calcaneus": (12.0, (-15, 0, 30)), "metatarsal_1": (10.0, (20, 5, 40))},
        side="left",
    )
    mesh = mesh_foot(spec, MeshOptions(size=6))
    assert set(mesh.parts) == {"calcaneus", "metatarsal_1", SOFT_TISSUE}
    for bone in ("calcaneus", "metatarsal_1"):
        in_bone = np.zeros(len(mesh.elements), dtype=bool)
        in_bone[mesh.parts[bone]] = True
        assert len(interface_faces(mesh.elements, in_bone)) > 50
    assert mesh.info["cad_volumes"]["calcaneus"] == pytest.approx(4 / 3 * np.pi * 12**3, rel=0.05)
    assert len(mesh.surfaces["plantar"]) > 0 and "achilles_insertion" in mesh.surfaces


def test_ascii_vtp_reader_and_an_opensim_bone(tmp_path: Path) -> None:
    path = tmp_path / "tri.vtp"
    path.write_text(
        '<?xml version="1.0"?><VTKFile type="PolyData" version="0.1"><PolyData>'
        '<Piece NumberOfPoints="4" NumberOfPolys="1"><Points><DataArray type="Float32" NumberOfComponents="3" '
        'format="ascii">0 0 0 1 0 0 1 1 0 0 1 0</DataArray></Points><Polys>'
        '<DataArray type="Int32" Name="connectivity" format="ascii">0 1 2 3</DataArray>'
        '<DataArray type="Int32" Name="offsets" format="ascii">4</DataArray></Polys></Piece></PolyData></VTKFile>'
    )
    points, tris = read_vtp(path)
    assert points.shape == (4, 3) and tris.tolist() == [[0, 1, 2], [0, 2, 3]]
    if not OPENSIM_DIR.is_dir():
        pytest.skip("../shared/data is absent")
    calc = load_surface(OPENSIM_DIR / "calcaneous_rv.vtp", "calcaneus", scale=1000.0)
    assert 40_000 < calc.volume() < 80_000  # mm^3
