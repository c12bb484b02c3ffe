"""User geometry: one closed triangle surface per bone plus the skin (STL, PLY, OBJ, OFF, VTP).

Surfaces are read (meshio, or the VTK XML PolyData reader below), merged at coincident
vertices, scaled to mm, mirrored for a left foot (y -> -y, with the triangle order flipped so
normals stay outward), oriented outward and validated: each surface must be watertight (every
edge shared by exactly two triangles), one connected shell and free of self-intersections;
bones must not overlap each other and must lie inside the skin. Every error names the bone and
the file.

The proximal cut: a leg is cut by a horizontal plane above the ankle, and the tibia and fibula
reach it. The plane is ``UserSurfaces.cut_height`` above the lowest skin point, or else the
skin's flat top (an opening of a scan, or a flat cap) when the tibia or fibula reaches it. The
skin, tibia and fibula are then clipped by the plane (``trimesh_checks.clip_below``); each must
leave one outline in the plane and no other opening. The outlines become the plane faces of the
proximal cut in the mesh (``footdt.mesh.foot_user``); here they are closed by planar fans, which
give exact volumes and inside tests. Every other bone must lie below the plane, inside the skin.
"""

from __future__ import annotations

import base64
import binascii
import lzma
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from footdt.anatomy.trimesh_checks import (
    boundary_loops,
    clip_below,
    components,
    fan_caps,
    open_edges,
    points_inside,
    self_intersections,
    surfaces_intersect,
)
from footdt.domain import LEG_BONES, SKIN
from footdt.errors import MeshError
from footdt.spec.geometry import UserSurfaces

READABLE = (".stl", ".ply", ".obj", ".off", ".vtp")
#: Points within this fraction of the skin's bounding-box diagonal of the cut plane lie in it.
PLANE_TOL = 1e-4


@dataclass
class TriSurface:
    """A closed, outward-oriented triangle surface in mm.

    When the surface was cut by the proximal plane, its last ``n_cap`` triangles are a planar
    fan closing the cut outline (exact volume and inside tests, not a mesh) and its last point
    is the fan's centre.
    """

    name: str
    points: np.ndarray  # (N, 3) mm
    triangles: np.ndarray  # (M, 3) int
    source: str = ""
    n_cap: int = 0

    def volume(self) -> float:
        p = self.points[self.triangles]
        return float(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6.0)

    def area(self) -> float:
        p = self.points[self.sides()]
        return float(
            0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1).sum()
        )

    def sides(self) -> np.ndarray:
        """The triangles of the surface itself (without the fan closing a cut)."""
        return self.triangles[: len(self.triangles) - self.n_cap]

    def lowest(self) -> np.ndarray:
        """The lowest point (1, 3): never on a proximal cut, so usable for inside tests."""
        return self.points[[int(np.argmin(self.points[:, 2]))]]


@dataclass
class UserGeometry:
    """Validated user surfaces: the skin and one surface per bone (mm, right-foot frame).

    ``cut_z`` is the z (mm) of the proximal cut plane when the skin (and the tibia and fibula
    reaching it) were cut by it, else None (the skin is closed and every bone inside it).
    """

    skin: TriSurface
    bones: dict[str, TriSurface]
    contact_depth: float
    cut_z: float | None = None

    def volume(self) -> float:
        return self.skin.volume()

    def area(self) -> float:
        return self.skin.area() + sum(b.area() for b in self.bones.values())


#: VTK XML ``compressor`` attribute -> decompression function (both in the standard library).
DECOMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "vtkZLibDataCompressor": zlib.decompress,
    "vtkLZMADataCompressor": lzma.decompress,
}
_VTK_TYPES = {
    "Int8": "i1",
    "UInt8": "u1",
    "Int16": "i2",
    "UInt16": "u2",
    "Int32": "i4",
    "UInt32": "u4",
    "Int64": "i8",
    "UInt64": "u8",
    "Float32": "f4",
    "Float64": "f8",
}
_SAVE_AS = "save it as ASCII or uncompressed binary VTP, or as STL"


def _b64(text: bytes, n_bytes: int) -> tuple[bytes, int]:
    """Decode the base64 characters that encode ``n_bytes`` bytes; (bytes, characters used)."""
    n_chars = 4 * ((n_bytes + 2) // 3)
    return base64.b64decode(text[:n_chars])[:n_bytes], n_chars


class _VtkBinary:
    """Decodes VTK XML binary data blocks: a header of ``header_type`` integers, then the data.

    Uncompressed: ``[n_bytes][data]``. Compressed: ``[n_blocks][block size][last block size]
    [compressed size 1..n_blocks][block 1]..[block n]``, each block compressed on its own. Base64
    text encodes an uncompressed header and its data together, a compressed header and its
    blocks separately (what VTK writes and reads); raw appended data is not encoded.
    """

    def __init__(self, path: Path, root: ET.Element) -> None:
        self.path = path
        self.order = ">" if root.get("byte_order") == "BigEndian" else "<"
        self.header = np.dtype(self.order + ("u8" if root.get("header_type") == "UInt64" else "u4"))
        self.compressor = root.get("compressor") or None

    def decode(self, data: bytes, base64_text: bool) -> bytes:
        """The data bytes of one block starting at ``data[0]`` (later bytes may follow)."""
        h = self.header.itemsize

        def take(start: int, n_bytes: int) -> tuple[bytes, int]:
            if base64_text:
                return _b64(data[start:], n_bytes)
            return data[start : start + n_bytes], n_bytes

        first, _ = take(0, h)
        if self.compressor is None:
            n = int(np.frombuffer(first, self.header)[0])
            return take(0, h + n)[0][h:]
        if self.compressor not in DECOMPRESSORS:
            raise MeshError(
                f"{self.path}: {self.compressor} compression is not supported; {_SAVE_AS}"
            )
        n_blocks = int(np.frombuffer(first, self.header)[0])
        head, used = take(0, h * (3 + n_blocks))
        header = np.frombuffer(head, self.header).astype(np.int64)
        sizes = header[3:]
        body, _ = take(used, int(sizes.sum()))
        ends = np.cumsum(sizes)
        out = b"".join(
            DECOMPRESSORS[self.compressor](body[e - s : e])
            for s, e in zip(sizes.tolist(), ends.tolist(), strict=True)
        )
        expected = header[1] * (n_blocks - 1) + (header[2] or header[1]) if n_blocks else 0
        if len(out) != expected:
            raise ValueError(f"{len(out)} bytes decompressed, the header says {expected}")
        return out


def _split_appended(path: Path) -> tuple[ET.Element, bytes, str]:
    """Parse a VTK XML file whose appended data may be raw bytes (not valid XML)."""
    blob = path.read_bytes()
    at = blob.find(b"<AppendedData")
    if at < 0:
        return ET.fromstring(blob), b"", ""
    tag_end = blob.index(b">", at)
    encoding = ET.fromstring(blob[at:tag_end] + b"/>").get("encoding", "raw")
    start = blob.index(b"_", tag_end) + 1
    end = blob.rfind(b"</AppendedData>")
    return (
        ET.fromstring(blob[:at] + b"</VTKFile>"),
        blob[start : end if end > start else None],
        encoding,
    )


def read_vtp(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 3) and triangles (M, 3) of a VTK XML PolyData file.

    Polygons are fan-triangulated and triangle strips split. Data may be ASCII, inline base64
    binary or appended (raw or base64), uncompressed or compressed with zlib (VTK's and
    ParaView's default) or LZMA, with UInt32 or UInt64 headers, in either byte order.
    """
    path = Path(path)
    try:
        root, appended, encoding = _split_appended(path)
    except (ET.ParseError, ValueError) as exc:
        raise MeshError(f"{path}: not a readable VTK XML file ({exc}); {_SAVE_AS}") from exc
    piece = root.find("PolyData/Piece")
    if root.tag != "VTKFile" or piece is None:
        raise MeshError(f"{path}: not a VTK PolyData file (no PolyData/Piece element)")
    binary = _VtkBinary(path, root)

    def array(xpath: str, required: bool = True) -> np.ndarray:
        node = piece.find(xpath)
        if node is None:
            if required:
                raise MeshError(f"{path}: missing {xpath}")
            return np.zeros(0, dtype=np.int64)
        kind = node.get("type", "Float32")
        if kind not in _VTK_TYPES:
            raise MeshError(f"{path}: {xpath} has unsupported type {kind!r}; {_SAVE_AS}")
        dtype = np.dtype(binary.order + _VTK_TYPES[kind])
        fmt = node.get("format", "ascii")
        text = node.text or ""
        if fmt == "ascii":
            return np.array(text.split(), dtype=float).astype(dtype)
        if fmt == "binary":
            raw = binary.decode(b"".join(text.encode("ascii").split()), base64_text=True)
        elif fmt == "appended" and appended:
            offset = int(node.get("offset", "0"))
            if encoding not in ("raw", "base64"):
                raise MeshError(
                    f"{path}: appended data encoding {encoding!r} is not supported; {_SAVE_AS}"
                )
            raw = binary.decode(appended[offset:], base64_text=encoding == "base64")
        else:
            raise MeshError(f"{path}: {xpath} has unsupported data format {fmt!r}; {_SAVE_AS}")
        return np.frombuffer(raw, dtype=dtype)

    try:
        points = array("Points/DataArray").astype(float).reshape(-1, 3)
        parts = [np.zeros((0, 3), dtype=np.int64)]
        for cells, strips in (("Polys", False), ("Strips", True)):
            conn = array(f"{cells}/DataArray[@Name='connectivity']", required=False)
            offsets = array(f"{cells}/DataArray[@Name='offsets']", required=False)
            parts.append(
                _cells_to_triangles(conn.astype(np.int64), offsets.astype(np.int64), strips)
            )
        tris = np.vstack(parts)
        if len(tris) and (tris.min() < 0 or tris.max() >= len(points)):
            raise ValueError("a cell refers to a point that does not exist")
    except (ValueError, zlib.error, lzma.LZMAError, binascii.Error) as exc:
        raise MeshError(f"{path}: damaged or unsupported VTK data ({exc}); {_SAVE_AS}") from exc
    return points, tris


def _cells_to_triangles(conn: np.ndarray, offsets: np.ndarray, strips: bool) -> np.ndarray:
    """Triangles of VTK polygons (fan-triangulated) or triangle strips (connectivity, offsets)."""
    starts = np.r_[0, offsets[:-1]].astype(np.int64) if len(offsets) else offsets
    sizes = offsets - starts
    if not strips and len(sizes) and (sizes == 3).all():
        return conn[: 3 * len(sizes)].reshape(-1, 3)
    tris: list[tuple[int, int, int]] = []
    for start, end in zip(starts.tolist(), offsets.tolist(), strict=True):
        c = conn[start:end].tolist()
        if strips:  # every other strip triangle is flipped to keep one orientation
            tris += [
                (c[k], c[k + 1], c[k + 2]) if k % 2 == 0 else (c[k + 1], c[k], c[k + 2])
                for k in range(len(c) - 2)
            ]
        else:
            tris += [(c[0], c[k], c[k + 1]) for k in range(1, len(c) - 1)]
    return np.asarray(tris, dtype=np.int64).reshape(-1, 3)


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
        vtp = read_vtp(path)
        if not len(vtp[1]):
            raise MeshError(f"{path}: no polygons in the file")
        return vtp
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


def _where(surface: TriSurface) -> str:
    return f"user surface {surface.name!r} ({surface.source})"


def read_surface(
    path: str | Path, name: str, scale: float = 1.0, mirror: bool = False
) -> TriSurface:
    """Read, scale (to mm), merge coincident vertices and mirror (left -> right foot); no checks."""
    points, tris = read_triangles(path)
    points = points * scale
    diag = float(np.linalg.norm(points.max(axis=0) - points.min(axis=0)))
    points, tris = merge_vertices(points, tris, 1e-7 * diag)
    if mirror:
        points = points * np.array([1.0, -1.0, 1.0])
        tris = tris[:, [0, 2, 1]]
    return TriSurface(name, points, tris, str(path))


def check_closed(surface: TriSurface, hint: str = "") -> TriSurface:
    """Check that a surface is watertight, one shell and not self-intersecting; orient it outward."""
    points, tris = surface.points, surface.triangles
    bad = open_edges(tris)
    if len(bad):
        at = np.round(points[bad[0, 0]], 1).tolist()
        raise MeshError(
            f"{_where(surface)} is not watertight: {len(bad)} edge(s) are not shared by exactly "
            f"two triangles (e.g. at {at} mm); close the holes and remove duplicate faces{hint}"
        )
    n_shells = components(tris, len(points))
    if n_shells != 1:
        raise MeshError(
            f"{_where(surface)} has {n_shells} separate shells; give one closed surface per file"
        )
    if surface.volume() < 0:
        surface.triangles = tris[:, [0, 2, 1]]
    pairs = self_intersections(points, surface.sides())
    if len(pairs):
        at = np.round(points[surface.triangles[pairs[0, 0]]].mean(axis=0), 1).tolist()
        raise MeshError(
            f"{_where(surface)} intersects itself ({len(pairs)} triangle pair(s), e.g. near {at} mm)"
        )
    return surface


def load_surface(
    path: str | Path, name: str, scale: float = 1.0, mirror: bool = False
) -> TriSurface:
    """Read, scale (to mm), mirror (left -> right foot), orient outward and validate a surface."""
    return check_closed(read_surface(path, name, scale, mirror))


def cut_surface(surface: TriSurface, z: float, tol: float) -> TriSurface:
    """The part of a surface below the plane z (mm), closed by a planar fan over its one outline.

    Refused unless the cut leaves exactly one outline in the plane and no other opening.
    """
    where = _where(surface)
    points, tris = clip_below(surface.points, surface.triangles, z, tol)
    if not len(tris):
        raise MeshError(f"{where} lies entirely above the proximal cut at z = {z:.1f} mm")
    bad = open_edges(tris)
    und = np.sort(tris[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    once = np.unique(und, axis=0, return_counts=True)
    boundary = once[0][once[1] == 1]
    if len(bad) != len(boundary):  # an edge of 3+ triangles or inconsistently oriented
        raise MeshError(
            f"{where} is not a clean surface below the proximal cut (an edge is shared by more "
            "than two triangles or the triangles are inconsistently oriented); repair it"
        )
    off = boundary[np.abs(points[boundary, 2] - z).max(axis=1) > 0]
    if len(off):
        at = np.round(points[off[0, 0]], 1).tolist()
        raise MeshError(
            f"{where} is not watertight below the proximal cut at z = {z:.1f} mm: an opening "
            f"at {at} mm; only the proximal cut may be open, close the other holes"
        )
    try:
        loops = boundary_loops(tris)
    except ValueError as exc:
        raise MeshError(
            f"{where}: its outline in the proximal cut plane is not simple ({exc})"
        ) from exc
    if len(loops) != 1:
        raise MeshError(
            f"{where} meets the proximal cut plane z = {z:.1f} mm in {len(loops)} separate "
            "outlines; it must cross it in one (move cut_height or repair the surface)"
        )
    closed_points, closed = fan_caps(points, tris, loops)
    cut = TriSurface(surface.name, closed_points, closed, surface.source, len(loops[0]))
    return check_closed(cut)


def proximal_cut_z(
    spec: UserSurfaces, skin: TriSurface, bones: dict[str, TriSurface], tol: float
) -> float | None:
    """z (mm) of the proximal cut plane, or None when nothing is to be cut (see module doc)."""
    z = skin.points[:, 2]
    if spec.cut_height is not None:
        cut = float(z.min()) + spec.cut_height
        if cut >= z.max() - tol:
            raise MeshError(
                f"user surfaces: cut_height {spec.cut_height:g} mm is not below the top of the "
                f"skin ({z.max() - z.min():.1f} mm above its lowest point); give a smaller one"
            )
        return cut
    und = np.sort(skin.triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    edges, counts = np.unique(und, axis=0, return_counts=True)
    rim = np.unique(edges[counts == 1])
    if len(rim):
        zr = z[rim]
        if zr.max() - zr.min() > tol or zr.min() < z.max() - tol:
            raise MeshError(
                f"{_where(skin)} is open at z {zr.min():.1f}..{zr.max():.1f} mm: close it, or, "
                "if that is the proximal end of a leg scan, give geometry.cut_height (mm above "
                "the sole) below the opening, or make the opening a flat horizontal cut at the top"
            )
        return float(z.max())
    legs = [b for b in LEG_BONES if b in bones]
    reach = [b for b in legs if bones[b].points[:, 2].max() >= z.max() - tol]
    flat_top = (z[skin.triangles] >= z.max() - tol).all(axis=1).any()
    return float(z.max()) if reach and flat_top else None


def load_user_surfaces(spec: UserSurfaces, base: Path | None = None) -> UserGeometry:
    """Load and validate the skin and bone surfaces a spec names (paths relative to ``base``)."""
    root = base or Path.cwd()
    mirror = spec.side == "left"

    def path(p: Path) -> Path:
        return p if p.is_absolute() else root / p

    skin = read_surface(path(spec.skin), SKIN, spec.scale, mirror)
    bones = {b: read_surface(path(p), b, spec.scale, mirror) for b, p in spec.bones.items()}
    tol = PLANE_TOL * float(np.linalg.norm(np.ptp(skin.points, axis=0)))
    cut_z = proximal_cut_z(spec, skin, bones, tol)
    leg_hint = (
        " (a tibia or fibula may end open only at the proximal cut: a flat top of the skin or "
        "geometry.cut_height)"
    )
    if cut_z is None:
        skin = check_closed(skin)
        for b in bones:
            bones[b] = check_closed(bones[b], leg_hint if b in LEG_BONES else "")
    else:
        skin = cut_surface(skin, cut_z, tol)
        for b, s in bones.items():
            if s.points[:, 2].max() < cut_z - tol:
                bones[b] = check_closed(s, leg_hint if b in LEG_BONES else "")
            elif b in LEG_BONES:
                bones[b] = cut_surface(s, cut_z, tol)
            else:
                raise MeshError(
                    f"user surfaces: the {b} ({s.source}) reaches the proximal cut at z = "
                    f"{cut_z:.1f} mm; only the tibia and fibula may be cut, every other bone "
                    "must lie inside the skin below it"
                )
    _check_layout(skin, bones, cut_z)
    return UserGeometry(skin=skin, bones=bones, contact_depth=spec.contact_depth, cut_z=cut_z)


def _check_layout(skin: TriSurface, bones: dict[str, TriSurface], cut_z: float | None) -> None:
    """Bones must not overlap each other and must lie inside the skin."""
    names = list(bones)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            sa, sb = bones[a], bones[b]
            if surfaces_intersect(sa.points, sa.sides(), sb.points, sb.sides()) or (
                points_inside(sb.points, sb.triangles, sa.lowest()).any()
                or points_inside(sa.points, sa.triangles, sb.lowest()).any()
            ):
                raise MeshError(
                    f"user surfaces: the {a} and the {b} overlap; bones must be separated by soft tissue"
                )
    hint = (
        "; a tibia or fibula may cross only a flat proximal cut of the skin (a flat top or "
        "opening, or geometry.cut_height)"
        if cut_z is None
        else ""
    )
    for b, s in bones.items():
        if surfaces_intersect(s.points, s.sides(), skin.points, skin.sides()):
            extra = hint if b in LEG_BONES else ""
            raise MeshError(
                f"user surfaces: the {b} crosses the skin surface; every bone must lie inside the skin{extra}"
            )
        if not points_inside(skin.points, skin.triangles, s.lowest()).all():
            raise MeshError(f"user surfaces: the {b} lies outside the skin")
