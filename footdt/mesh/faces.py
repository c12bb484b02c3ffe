"""Fast tetrahedron face matching with one int64 key per face (no ``np.unique(axis=0)``).

Faces are (element, local face) pairs in ``TET_FACES`` numbering. One int64 key per face is
about 20x faster than ``np.unique(axis=0)`` on rows of three node ids for 200k-element meshes.
"""

from __future__ import annotations

import numpy as np

from footdt.ir import TET_FACES


def face_keys(elements: np.ndarray) -> np.ndarray:
    """(4M,) int64 key of every element face (row 4e+f is face f of element e)."""
    tri = np.sort(elements[:, :4][:, np.asarray(TET_FACES)].reshape(-1, 3), axis=1).astype(np.int64)
    n = int(tri.max()) + 1 if len(tri) else 1
    if n >= 2**21:
        raise ValueError("face_keys supports up to 2,097,151 nodes")
    return (tri[:, 0] * n + tri[:, 1]) * n + tri[:, 2]


def _counts(keys: np.ndarray) -> np.ndarray:
    order = np.argsort(keys)
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    counts = np.diff(np.r_[starts, len(keys)])
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = np.repeat(counts, counts)
    return out


def boundary_faces(elements: np.ndarray) -> np.ndarray:
    """(K, 2) (element, local face) of faces that belong to exactly one element."""
    idx = np.flatnonzero(_counts(face_keys(elements)) == 1)
    return np.column_stack([idx // 4, idx % 4]).astype(np.int64)


def part_boundary_faces(
    elements: np.ndarray, parts: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(element, local face) pairs bounding each part, and the mesh's outer boundary, from one
    sort of all face keys: a face bounds its element's part when no other element shares it or
    the one that does lies in another part. ``parts`` must not overlap (``ValueError`` if they do).
    """
    part_of = np.full(len(elements), -1, dtype=np.int64)
    for i, ids in enumerate(parts.values()):
        if np.any(part_of[ids] >= 0):
            raise ValueError("parts overlap")
        part_of[ids] = i
    keys = face_keys(elements)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    twin = np.full(len(keys), -1, dtype=np.int64)
    same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])  # a conforming mesh: pairs only
    twin[order[same]] = order[same + 1]
    twin[order[same + 1]] = order[same]
    own = part_of[np.arange(len(keys)) // 4]
    other = np.where(twin >= 0, part_of[np.maximum(twin, 0) // 4], -2)
    bounding = np.flatnonzero((own >= 0) & (other != own))
    out = {}
    for i, name in enumerate(parts):
        idx = bounding[own[bounding] == i]
        out[name] = np.column_stack([idx // 4, idx % 4]).astype(np.int64)
    outer = np.flatnonzero(twin < 0)
    return out, np.column_stack([outer // 4, outer % 4]).astype(np.int64)


def interface_faces(elements: np.ndarray, in_a: np.ndarray) -> np.ndarray:
    """Faces of elements in A (bool mask per element) shared with an element outside A."""
    keys = face_keys(elements)
    owner_in_a = np.repeat(in_a, 4)
    a_keys = np.unique(keys[owner_in_a])
    b_keys = np.unique(keys[~owner_in_a])
    shared = np.intersect1d(a_keys, b_keys, assume_unique=True)
    idx = np.flatnonzero(owner_in_a & np.isin(keys, shared))
    return np.column_stack([idx // 4, idx % 4]).astype(np.int64)


def face_triangles(elements: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(K, 3) corner node ids of (element, local face) pairs, ordered as in ``TET_FACES``."""
    return np.take_along_axis(elements[faces[:, 0], :4], np.asarray(TET_FACES)[faces[:, 1]], axis=1)
