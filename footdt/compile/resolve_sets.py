"""Pass 3: resolve every name a spec can point at (surface, node set, landmark) to mesh entities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from footdt.ir import TET10_FACE_MIDSIDES, TET_FACES
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.spec.loader import Loc, SourceMap
from footdt.spec.subject import SubjectSpec


@dataclass
class Sets:
    """Node sets (surfaces' nodes, explicit node sets, landmarks) and surfaces by name."""

    node_sets: dict[str, np.ndarray]
    surfaces: dict[str, np.ndarray]
    landmarks: dict[str, int]

    def nodes_of(self, name: str, source: SourceMap, loc: Loc) -> np.ndarray:
        if name in self.node_sets:
            return self.node_sets[name]
        if name in self.landmarks:
            return np.array([self.landmarks[name]])
        known = sorted({*self.node_sets, *self.landmarks})
        raise source.error(
            loc, f"no surface, node set or landmark named {name!r}; known: {', '.join(known)}"
        )


def surface_node_set(mesh: VolumeMesh, faces: np.ndarray) -> np.ndarray:
    local = np.asarray(TET_FACES)[faces[:, 1]]
    if mesh.cell_type == "tetra10":
        local = np.hstack([local, np.asarray(TET10_FACE_MIDSIDES)[faces[:, 1]]])
    return np.unique(np.take_along_axis(mesh.elements[faces[:, 0]], local, axis=1))


def resolve_sets(spec: SubjectSpec, mesh: VolumeMesh, source: SourceMap) -> Sets:
    tree = cKDTree(mesh.nodes)
    snap = 2.0 * max(spec.mesh.size, *spec.mesh.part_sizes.values(), 0.0)

    def nearest(point: tuple[float, float, float], loc: Loc, what: str) -> int:
        dist, idx = tree.query(point)
        if dist > snap:
            raise source.error(
                loc,
                f"{what} at {tuple(point)} is {dist:.2f} mm from the nearest node (limit {snap:g} mm): "
                "is it inside the model?",
            )
        return int(idx)

    node_sets = {
        name: surface_node_set(mesh, faces) for name, faces in mesh.surfaces.items() if len(faces)
    }
    # landmarks the geometry defines (e.g. the foot template's), then the spec's own (which may override)
    where: dict[str, tuple[float, float, float]] = {
        name: (float(p[0]), float(p[1]), float(p[2])) for name, p in mesh.landmarks.items()
    }
    where.update(spec.landmarks)
    landmarks = {
        name: nearest(p, ("landmarks", name), f"landmark {name!r}") for name, p in where.items()
    }
    for name, points in spec.node_sets.items():
        if name in node_sets or name in landmarks:
            raise source.error(
                ("node_sets", name), f"{name!r} is already a surface or landmark name"
            )
        ids = [
            nearest(p, ("node_sets", name, i), f"point {i} of node set {name!r}")
            for i, p in enumerate(points)
        ]
        node_sets[name] = np.unique(np.asarray(ids, dtype=np.int64))
    clash = sorted(set(landmarks) & set(node_sets))
    if clash:
        raise source.error(("landmarks", clash[0]), f"{clash[0]!r} is already a surface name")
    surfaces = {n: f for n, f in mesh.surfaces.items() if len(f)}
    return Sets(node_sets=node_sets, surfaces=surfaces, landmarks=landmarks)
