"""VTK XML PolyData (.vtp) reading: ASCII, inline and appended binary, zlib/LZMA compression.

The files are written here from the VTK XML format description (docs.vtk.org "VTK File Formats",
XML section; the KitwarePublic wiki "VTK XML Formats"): binary data is a header of
``header_type`` integers followed by the data. Uncompressed: ``[n_bytes][data]``, base64-encoded
together. Compressed: ``[n_blocks][block size][last block size][compressed size of each
block]`` then each block compressed on its own; in base64 the header and the blocks are encoded
separately. Appended data follows ``_`` in ``<AppendedData>``, each array at its ``offset``
(bytes for raw data, characters for base64). When the ``vtk`` package is importable, files
written by VTK's own writer are read too.
"""

from __future__ import annotations

import base64
import lzma
import zlib
from pathlib import Path

import numpy as np
import pytest

from footdt.anatomy.user_surfaces import load_surface, read_vtp
from footdt.errors import MeshError
from tests.anatomy.foot_fixtures import icosphere

COMPRESS = {"zlib": zlib.compress, "lzma": lambda b: lzma.compress(b)}
NAMES = {"zlib": "vtkZLibDataCompressor", "lzma": "vtkLZMADataCompressor"}


def _block(
    data: bytes, header: str, order: str, compress: str | None, block_size: int, b64: bool
) -> bytes:
    """One array's binary data (header + data) as VTK writes it."""
    h = np.dtype(order + ("u8" if header == "UInt64" else "u4"))
    if compress is None:
        raw = np.array([len(data)], h).tobytes() + data
        return base64.b64encode(raw) if b64 else raw
    chunks = [data[i : i + block_size] for i in range(0, len(data), block_size)]
    packed = [COMPRESS[compress](c) for c in chunks]
    last = len(chunks[-1]) if chunks and len(chunks[-1]) < block_size else 0
    head = np.array([len(chunks), block_size, last, *map(len, packed)], h).tobytes()
    body = b"".join(packed)
    return base64.b64encode(head) + base64.b64encode(body) if b64 else head + body


def write_vtp(
    path: Path,
    points: np.ndarray,
    cells: list[list[int]],
    *,
    fmt: str = "binary",
    compress: str | None = "zlib",
    header: str = "UInt32",
    encoding: str = "raw",
    order: str = "<",
    block_size: int = 32768,
    cell_kind: str = "Polys",
) -> Path:
    """A VTK XML PolyData file with Float64 points and Int64 (or Int32 for ascii) cells."""
    offsets = np.cumsum([len(c) for c in cells])
    arrays = [
        ("Points", "Float64", 'NumberOfComponents="3"', np.asarray(points, order + "f8")),
        (
            cell_kind,
            "Int64",
            'Name="connectivity"',
            np.asarray([v for c in cells for v in c], order + "i8"),
        ),
        (cell_kind, "Int64", 'Name="offsets"', np.asarray(offsets, order + "i8")),
    ]
    attrs = f'byte_order="{"BigEndian" if order == ">" else "LittleEndian"}" header_type="{header}"'
    if compress and fmt != "ascii":
        attrs += f' compressor="{NAMES[compress]}"'
    xml, appended = [], b""
    for section, kind, extra, values in arrays:
        if fmt == "ascii":
            body = " ".join(str(v) for v in values.ravel().tolist())
            element = f'<DataArray type="{kind}" {extra} format="ascii">{body}</DataArray>'
        else:
            block = _block(
                values.tobytes(),
                header,
                order,
                compress,
                block_size,
                fmt == "binary" or encoding == "base64",
            )
            if fmt == "binary":
                element = f'<DataArray type="{kind}" {extra} format="binary">\n  {block.decode()}\n</DataArray>'
            else:
                element = (
                    f'<DataArray type="{kind}" {extra} format="appended" offset="{len(appended)}"/>'
                )
                appended += block
        xml.append((section, element))
    n_cells = f'Number{"OfStrips" if cell_kind == "Strips" else "OfPolys"}="{len(cells)}"'
    text = (
        f'<?xml version="1.0"?>\n<VTKFile type="PolyData" version="1.0" {attrs}>\n<PolyData>\n'
        f'<Piece NumberOfPoints="{len(points)}" {n_cells}>\n'
        f"<Points>{xml[0][1]}</Points>\n<{cell_kind}>{xml[1][1]}{xml[2][1]}</{cell_kind}>\n"
        "</Piece>\n</PolyData>\n"
    ).encode()
    if fmt == "appended":
        text += (
            f'<AppendedData encoding="{encoding}">\n   _'.encode()
            + appended
            + b"\n</AppendedData>\n"
        )
    path.write_bytes(text + b"</VTKFile>\n")
    return path


SPHERE = icosphere(7.5, (1.0, 2.0, 3.0), level=2)


@pytest.mark.parametrize("header", ["UInt32", "UInt64"])
@pytest.mark.parametrize(
    ("fmt", "encoding"), [("binary", ""), ("appended", "raw"), ("appended", "base64")]
)
@pytest.mark.parametrize("compress", [None, "zlib", "lzma"])
def test_binary_vtp_round_trip(
    tmp_path: Path, header: str, fmt: str, encoding: str, compress: str | None
) -> None:
    points, tris = SPHERE
    # 1000-byte blocks: the 162 x 3 Float64 points need four, the last one partial
    path = write_vtp(
        tmp_path / "s.vtp",
        points,
        tris.tolist(),
        fmt=fmt,
        compress=compress,
        header=header,
        encoding=encoding,
        block_size=1000,
    )
    p, t = read_vtp(path)
    assert np.array_equal(p, points) and np.array_equal(t, tris)


def test_big_endian_and_exact_blocks_and_ascii(tmp_path: Path) -> None:
    points, tris = SPHERE
    big = write_vtp(tmp_path / "be.vtp", points, tris.tolist(), order=">", header="UInt64")
    exact = write_vtp(tmp_path / "ex.vtp", points, tris.tolist(), block_size=8 * 3 * 54)
    ascii_ = write_vtp(tmp_path / "a.vtp", points, tris.tolist(), fmt="ascii")
    for path in (big, exact, ascii_):
        p, t = read_vtp(path)
        assert np.allclose(p, points, rtol=0, atol=1e-12) and np.array_equal(t, tris)


def test_polygons_are_fanned_and_strips_split_with_one_orientation(tmp_path: Path) -> None:
    square = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [2, 0, 0], [2, 1, 0]], float)
    _, t = read_vtp(write_vtp(tmp_path / "q.vtp", square, [[0, 1, 2, 3], [1, 4, 5, 2]]))
    assert t.tolist() == [[0, 1, 2], [0, 2, 3], [1, 4, 5], [1, 5, 2]]
    strip = write_vtp(tmp_path / "s.vtp", square, [[3, 0, 2, 1, 5, 4]], cell_kind="Strips")
    _, t = read_vtp(strip)
    normals = np.cross(square[t[:, 1]] - square[t[:, 0]], square[t[:, 2]] - square[t[:, 0]])
    assert t.tolist() == [[3, 0, 2], [2, 0, 1], [2, 1, 5], [5, 1, 4]]
    assert np.all(normals[:, 2] > 0)  # every triangle faces the way of the first


def test_compressed_vtp_surface_loads_as_a_bone(tmp_path: Path) -> None:
    points, tris = icosphere(0.01, level=3)  # metres
    path = write_vtp(tmp_path / "talus.vtp", points, tris.tolist(), fmt="appended")
    s = load_surface(path, "talus", scale=1000.0)
    assert s.volume() == pytest.approx(4 / 3 * np.pi * 10.0**3, rel=0.03)


def test_unsupported_compression_and_damaged_data_are_refused_in_one_line(tmp_path: Path) -> None:
    points, tris = SPHERE
    path = write_vtp(tmp_path / "lz4.vtp", points, tris.tolist())
    path.write_bytes(path.read_bytes().replace(b"vtkZLibDataCompressor", b"vtkLZ4DataCompressor"))
    with pytest.raises(
        MeshError,
        match=r"lz4.vtp: vtkLZ4DataCompressor compression is not "
        r"supported; save it as ASCII or uncompressed binary VTP, or as STL$",
    ):
        read_vtp(path)
    bad = write_vtp(tmp_path / "bad.vtp", points, tris.tolist(), fmt="appended")
    blob = bad.read_bytes()
    cut = blob.index(b"_", blob.index(b"<AppendedData")) + 40
    bad.write_bytes(blob[:cut] + b"\x00" * 16 + blob[cut + 16 :])  # damage the first zlib block
    with pytest.raises(MeshError, match=r"bad.vtp: damaged or unsupported VTK data") as info:
        read_vtp(bad)
    assert "\n" not in str(info.value)


def _vtk_sphere():
    vtk = pytest.importorskip("vtk")
    source = vtk.vtkSphereSource()
    source.SetThetaResolution(24)
    source.SetPhiResolution(16)
    source.Update()
    data = source.GetOutput()
    points = np.array([data.GetPoint(i) for i in range(data.GetNumberOfPoints())])
    polys = data.GetPolys()
    polys.InitTraversal()
    ids = vtk.vtkIdList()
    tris = []
    while polys.GetNextCell(ids):
        tris.append([ids.GetId(k) for k in range(ids.GetNumberOfIds())])
    return vtk, data, points, np.array(tris)


@pytest.mark.parametrize("compressor", ["None", "ZLib", "LZMA"])
@pytest.mark.parametrize("mode", ["Binary", "Appended", "AppendedBase64"])
@pytest.mark.parametrize("header", ["UInt32", "UInt64"])
def test_files_written_by_vtk(tmp_path: Path, compressor: str, mode: str, header: str) -> None:
    vtk, data, points, tris = _vtk_sphere()
    writer = vtk.vtkXMLPolyDataWriter()
    writer.SetInputData(data)
    writer.SetFileName(str(tmp_path / "vtk.vtp"))
    getattr(writer, f"SetCompressorTypeTo{compressor}")()
    getattr(writer, f"SetHeaderTypeTo{header}")()
    if mode == "Binary":
        writer.SetDataModeToBinary()
    else:
        writer.SetDataModeToAppended()
        writer.SetEncodeAppendedData(mode == "AppendedBase64")
    writer.SetBlockSize(512)  # several compressed blocks
    assert writer.Write() == 1
    p, t = read_vtp(tmp_path / "vtk.vtp")
    assert np.allclose(p, points, rtol=0, atol=1e-6)  # VTK writes Float32 points
    assert np.array_equal(t, tris)


def test_vtk_lz4_is_refused(tmp_path: Path) -> None:
    vtk, data, _, _ = _vtk_sphere()
    writer = vtk.vtkXMLPolyDataWriter()
    writer.SetInputData(data)
    writer.SetFileName(str(tmp_path / "lz4.vtp"))
    writer.SetCompressorTypeToLZ4()
    writer.Write()
    with pytest.raises(MeshError, match="vtkLZ4DataCompressor compression is not supported"):
        read_vtp(tmp_path / "lz4.vtp")
