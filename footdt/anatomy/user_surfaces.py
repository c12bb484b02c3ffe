"""User geometry: one closed triangle surface per bone plus the skin (STL, PLY, OBJ, OFF, VTP).

Surfaces are read (meshio, or a small reader for ASCII/inline-binary VTK XML PolyData), merged at
coincident vertices, scaled to mm, mirrored for a left foot (y -> -y, with the triangle order
flipped so normals stay outward), oriented outward and validated: each surface must be
watertight (every edge shared by exactly two triangles), one connected shell and free of
self-intersections; bones must not overlap each other and must lie inside the skin. Every error
names the bone and the file.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from footdt.anatomy.trimesh_checks import (
    components,
    open_edges,
    points_inside,
    self_intersections,
    surfaces_intersect,
)
from footdt.errors import MeshError
from footdt.spec.geometry import UserSurfaces

READABLE = (".stl", ".ply", ".obj", ".off", ".vtp")


@dataclass
class TriSurface:
    """A closed, outward-oriented triangle surface in mm."""

    name: str
    points: np.ndarray  # (N, 3) mm
    triangles: np.ndarray  # (M, 3) int
    source: str = ""

    def volume(self) -> float:
        p = self.points[self.triangles]
        return float(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6.0)

    def area(self) -> float:
        p = self.points[self.triangles]
        return float(
            0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1).sum()
        )


@dataclass
class UserGeometry:
    """Validated user surfaces: the skin and one surface per bone (mm, right-foot frame)."""

    skin: TriSurface
    bones: dict[str, TriSurface]
    contact_depth: float

    def volume(self) -> float:
        return self.skin.volume()

    def area(self) -> float:
        return self.skin.area() + sum(b.area() for b in self.bones.values())


def read_vtp(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 3) and triangles (M, 3) of a VTK XML PolyData file (polygons fan-triangulated).

    Reads ASCII and uncompressed inline base64 binary arrays; compressed or appended data is not
    supported (save the file as ASCII or as STL instead).
    """
    root = ET.parse(path).getroot()
    piece = root.find("PolyData/Piece")
    if piece is None:
        raise MeshError(f"{path}: not a VTK PolyData file")
    compressed = root.get("compressor") == "vtkZLibDataCompressor"
    header = np.uint64 if root.get("header_type") == "UInt64" else np.uint32

    def array(xpath: str) -> np.ndarray:
        node = piece.find(xpath)
        if node is None or node.text is None:
            raise MeshError(f"{path}: missing {xpath}")
        dtype = {
            "Float32": np.float32,
            "Float64": np.float64,
            "Int32": np.int32,
            "Int64": np.int64,
            "UInt32": np.uint32,
            "UInt64": np.uint64,
        }[node.get("type", "Float32")]
        fmt = node.get("format", "ascii")
        if fmt == "ascii":
            return np.array(node.text.split(), dtype=dtype)
        if fmt != "binary":
            raise MeshError(
                f"{path}: VTK '{fmt}' data is not supported; save the file as ASCII or STL"
            )
        if compressed:
            raise MeshError(
                f"{path}: compressed binary VTK data is not supported; save the file as ASCII or STL"
            )
        raw = base64.b64decode(node.text.strip())
        return np.frombuffer(raw[np.dtype(header).itemsize :], dtype=dtype)

    points = array("Points/DataArray").astype(float).reshape(-1, 3)
    conn = array("Polys/DataArray[@Name='connectivity']").astype(np.int64)
    offsets = array("Polys/DataArray[@Name='offsets']").astype(np.int64)
    tris = []
    for start, end in zip(np.r_[0, offsets[:-1]], offsets, strict=True):
        poly = conn[start:end]
        tris += [(poly[0], poly[k], poly[k + 1]) for k in range(1, len(poly) - 1)]
    return points, np.asarray(tris, dtype=np.int64).reshape(-1, 3)


def read_triangles(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Points and triangles of a surface file (STL, PLY, OBJ, OFF via meshio; VTP)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READABLE:
        raise MeshError(
            f"{path}: unsupported surface format {suffix!r}; use one of {', '.join(READABLE)}"
        )
    if not path.is_file():
        raise MeshError(f"{path}: file not found")
    if suffix == ".vtp":
        return read_vtp(path)
    import meshio

    with np.errstate(over="ignore"):  # meshio's STL-type sniffing overflows a uint32 harmlessly
        mesh = meshio.read(path)
    tris = [c.data for c in mesh.cells if c.type == "triangle"]
    quads = [c.data for c in mesh.cells if c.type == "quad"]
    tris += [q[:, [0, 1, 2]] for q in quads] + [q[:, [0, 2, 3]] for q in quads]
    if not tris:
        raise MeshError(f"{path}: no triangles in the file")
    return np.asarray(mesh.points, dtype=float)[:, :3], np.vstack(tris).astype(np.int64)


def merge_vertices(
    points: np.ndarray, triangles: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Merge vertices closer than ``tol`` (grid rounding) and drop degenerate triangles."""
    key = np.round(points / tol).astype(np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    tri = inverse.ravel()[triangles]
    keep = (tri[:, 0] != tri[:, 1]) & (tri[:, 1] != tri[:, 2]) & (tri[:, 0] != tri[:, 2])
    return points[first], tri[keep]


def load_surface(
    path: str | Path, name: str, scale: float = 1.0, mirror: bool = False
) -> TriSurface:
    """Read, scale (to mm), mirror (left -> right foot), orient outward and validate a surface."""
    where = f"user surface {name!r} ({path})"
    points, tris = read_triangles(path)
    points = points * scale
    diag = float(np.linalg.norm(points.max(axis=0) - points.min(axis=0)))
    points, tris = merge_vertices(points, tris, 1e-7 * diag)
    if mirror:
        points = points * np.array([1.0, -1.0, 1.0])
        tris = tris[:, [0, 2, 1]]
    surface = TriSurface(name, points, tris, str(path))
    bad = open_edges(tris)
    if len(bad):
        at = np.round(points[bad[0, 0]], 1).tolist()
        raise MeshError(
            f"{where} is not watertight: {len(bad)} edge(s) are not shared by exactly two triangles "
            f"(e.g. at {at} mm); close the holes and remove duplicate faces"
        )
    n_shells = components(tris, len(points))
    if n_shells != 1:
        raise MeshError(f"{where} has {n_shells} separate shells; give one closed surface per file")
    if surface.volume() < 0:
        surface.triangles = tris[:, [0, 2, 1]]
    pairs = self_intersections(points, surface.triangles)
    if len(pairs):
        at = np.round(points[surface.triangles[pairs[0, 0]]].mean(axis=0), 1).tolist()
        raise MeshError(
            f"{where} intersects itself ({len(pairs)} triangle pair(s), e.g. near {at} mm)"
        )
    return surface


def load_user_surfaces(spec: UserSurfaces, base: Path | None = None) -> UserGeometry:
    """Load and validate the skin and bone surfaces a spec names (paths relative to ``base``)."""
    root = base or Path.cwd()
    mirror = spec.side == "left"

    def path(p: Path) -> Path:
        return p if p.is_absolute() else root / p

    skin = load_surface(path(spec.skin), "skin", spec.scale, mirror)
    bones = {b: load_surface(path(p), b, spec.scale, mirror) for b, p in spec.bones.items()}
    names = list(bones)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            sa, sb = bones[a], bones[b]
            if surfaces_intersect(sa.points, sa.triangles, sb.points, sb.triangles) or (
                points_inside(sb.points, sb.triangles, sa.points[:1]).any()
                or points_inside(sa.points, sa.triangles, sb.points[:1]).any()
            ):
                raise MeshError(
                    f"user surfaces: the {a} and the {b} overlap; bones must be separated by soft tissue"
                )
    for b, s in bones.items():
        if surfaces_intersect(s.points, s.triangles, skin.points, skin.triangles):
            raise MeshError(
                f"user surfaces: the {b} crosses the skin surface; every bone must lie inside the skin"
            )
        if not points_inside(skin.points, skin.triangles, s.points[:1]).all():
            raise MeshError(f"user surfaces: the {b} lies outside the skin")
    return UserGeometry(skin=skin, bones=bones, contact_depth=spec.contact_depth)
