"""A quiet, deterministic gmsh session and conversion of its tetrahedral mesh to numpy arrays."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from footdt.errors import MeshError
from footdt.mesh.topology import boundary_faces, orient_positive

# gmsh's 10-node tetrahedron numbers its last two edge nodes (2-3, 1-3) the other way round from
# Abaqus/VTK/meshio (1-3, 2-3).
_GMSH_TET10_TO_IR = np.array([0, 1, 2, 3, 4, 5, 6, 7, 9, 8])


@dataclass
class VolumeMesh:
    """A conforming tetrahedral mesh with parts and named boundary surfaces (0-based indices)."""

    nodes: np.ndarray
    elements: np.ndarray
    cell_type: str
    parts: dict[str, np.ndarray]
    surfaces: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (K, 2) (element, face)
    landmarks: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (3,) point in mm
    info: dict[str, Any] = field(default_factory=dict)
    quality: Any = None  # footdt.mesh.quality.QualityReport once the compile pass has checked it
    personalisation: Any = None  # footdt.shape.personalise.Personalisation of a morphed template


@contextmanager
def gmsh_session(seed: int = 0, threads: int = 1) -> Iterator[Any]:
    import gmsh

    gmsh.initialize(interruptible=False)
    _restore_python_signals()
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.option.setNumber("General.Verbosity", 1)
        gmsh.option.setNumber("General.NumThreads", threads)
        gmsh.option.setNumber("Mesh.RandomSeed", seed)
        gmsh.model.add("footdt")
        yield gmsh
    finally:
        gmsh.finalize()
        _restore_python_signals()


_KEPT_SIGNALS = ("SIGPIPE", "SIGINT", "SIGTERM")


def _restore_python_signals() -> None:
    """gmsh.initialize() resets SIGPIPE (and may touch others) at the OS level to the C default,
    behind Python's back: a later write to a closed pipe would then kill the whole process instead
    of raising BrokenPipeError. Re-install Python's own dispositions."""
    import signal

    for name in _KEPT_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        # not the main thread, or a foreign handler: leave it
        with contextlib.suppress(ValueError, TypeError, OSError):
            signal.signal(sig, signal.getsignal(sig))


def read_tets(
    gmsh: Any, volume_parts: dict[int, str], order: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """The current gmsh model's tets grouped into parts, nodes renumbered 0..N-1 (unused dropped).

    Returns nodes (N, 3), elements (M, 4|10) in IR node order (not yet oriented), parts
    (name -> element indices) and ``node_of_tag`` (gmsh node tag -> IR node index, -1 if unused).
    """
    etype, npe = (4, 4) if order == 1 else (11, 10)
    tags, coords, _ = gmsh.model.mesh.getNodes()
    coords = np.asarray(coords).reshape(-1, 3)
    tags = np.asarray(tags, dtype=np.int64)
    index = np.full(int(np.max(tags)) + 1, -1, dtype=np.int64)
    index[tags] = np.arange(len(tags))
    blocks: list[np.ndarray] = []
    parts: dict[str, np.ndarray] = {}
    start = 0
    for vtag, part in volume_parts.items():
        _, node_tags = gmsh.model.mesh.getElementsByType(etype, vtag)
        conn = index[np.asarray(node_tags, dtype=np.int64)].reshape(-1, npe)
        if order == 2:
            conn = conn[:, _GMSH_TET10_TO_IR]
        blocks.append(conn)
        ids = np.arange(start, start + len(conn))
        parts[part] = np.concatenate([parts[part], ids]) if part in parts else ids
        start += len(conn)
    if start == 0:
        raise MeshError(
            "gmsh produced no tetrahedra: the element size may be larger than the geometry"
        )
    elements = np.vstack(blocks)
    used = np.unique(elements)
    remap = np.full(len(coords), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    node_of_tag = np.where(index >= 0, remap[index], -1)
    return coords[used], remap[elements], parts, node_of_tag


def extract_volume_mesh(
    gmsh: Any, volume_parts: dict[int, str], named_surfaces: dict[str, list[int]], order: int
) -> VolumeMesh:
    """Read the current gmsh model's tets (grouped by volume tag) and named surface triangles."""
    nodes, raw, parts, node_of_tag = read_tets(gmsh, volume_parts, order)
    elements = orient_positive(nodes, raw)
    faces = boundary_faces(elements)
    key_of = {tuple(sorted(t)): i for i, t in enumerate(_face_corners(elements, faces).tolist())}
    surfaces: dict[str, np.ndarray] = {}
    for name, stags in named_surfaces.items():
        rows = []
        for stag in stags:
            _, tri = gmsh.model.mesh.getElementsByType(2 if order == 1 else 9, stag)
            tri = node_of_tag[np.asarray(tri, dtype=np.int64)].reshape(-1, 3 if order == 1 else 6)[
                :, :3
            ]
            for t in tri.tolist():
                k = key_of.get(tuple(sorted(t)))
                if k is not None:
                    rows.append(k)
        surfaces[name] = (
            faces[np.unique(np.asarray(rows, dtype=np.int64))]
            if rows
            else np.zeros((0, 2), np.int64)
        )
    return VolumeMesh(nodes, elements, "tetra" if order == 1 else "tetra10", parts, surfaces)


def _face_corners(elements: np.ndarray, faces: np.ndarray) -> np.ndarray:
    from footdt.ir import TET_FACES

    return np.take_along_axis(elements[faces[:, 0], :4], np.asarray(TET_FACES)[faces[:, 1]], axis=1)
