"""Re-tetrahedralise a morphed foot inside its morphed surfaces (``remesh: true``). Units: mm.

A morph moves every node, so a subject far from the template can squash interior elements even
where the surfaces stay smooth. Remeshing keeps the morphed *surfaces* as they are -- every
bone-tissue interface, the skin and the proximal cut, as discrete gmsh surfaces that share their
nodes -- and lets gmsh (Delaunay) fill each part with new tetrahedra at the spec's size. The result is
conforming (bones and tissue share their interface nodes), keeps every surface node, named
surface and landmark, but has new interior nodes and elements: node correspondence with the
template is lost, which is the price of a remesh. Surface triangles the morph stretched are kept
as they are; if those are the problem, the subject is too far from the template for this mesh.
"""

from __future__ import annotations

import numpy as np

from footdt.errors import MeshError
from footdt.mesh.faces import face_keys, face_triangles
from footdt.mesh.gmsh_session import VolumeMesh


def interface_patches(mesh: VolumeMesh) -> tuple[list[tuple[int, int]], list[np.ndarray]]:
    """Triangles (node ids) between each pair of regions (part index, -1 = outside): every face
    between two different parts or between a part and the outside, grouped by the pair."""
    part_of = np.full(len(mesh.elements), -1)
    for i, name in enumerate(mesh.parts):
        part_of[mesh.parts[name]] = i
    keys = face_keys(mesh.elements)  # row 4e + f: face f of element e
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    start = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    size = np.diff(np.r_[start, len(keys)])
    first = order[start]
    region_a = part_of[first // 4]
    region_b = np.full(len(first), -1)
    twice = size == 2
    region_b[twice] = part_of[order[start[twice] + 1] // 4]
    keep = region_a != region_b
    pairs = np.sort(np.column_stack([region_a, region_b])[keep], axis=1)
    rows = first[keep]
    tris = face_triangles(mesh.elements, np.column_stack([rows // 4, rows % 4]))
    uniq, which = np.unique(pairs, axis=0, return_inverse=True)
    which = which.ravel()
    return [(int(a), int(b)) for a, b in uniq], [tris[which == k] for k in range(len(uniq))]


def remesh_morphed(mesh: VolumeMesh, options: object) -> VolumeMesh:
    """New tetrahedra for every part of ``mesh`` inside its surfaces (see module doc)."""
    from footdt.mesh.foot import extract_parts
    from footdt.mesh.gmsh_session import gmsh_session

    names = list(mesh.parts)
    pairs, patches = interface_patches(mesh)
    size = float(getattr(options, "size", 5.0))
    order = int(getattr(options, "order", 1))
    with gmsh_session(seed=int(getattr(options, "seed", 0))) as gmsh:
        surfaces, added = [], np.zeros(len(mesh.nodes), dtype=bool)
        for tris in patches:
            tag = gmsh.model.addDiscreteEntity(2)
            new = np.unique(tris)
            new = new[~added[new]]
            added[new] = True
            gmsh.model.mesh.addNodes(2, tag, (new + 1).tolist(), mesh.nodes[new].ravel().tolist())
            gmsh.model.mesh.addElementsByType(tag, 2, [], (tris + 1).ravel().tolist())
            surfaces.append(tag)
        geo = gmsh.model.geo
        parts: dict[int, str] = {}
        for r, name in enumerate(names):
            bound = [surfaces[k] for k, (a, b) in enumerate(pairs) if r in (a, b)]
            parts[geo.addVolume([geo.addSurfaceLoop(bound)])] = name
        geo.synchronize()
        gmsh.option.setNumber("Mesh.MeshSizeMax", size)
        gmsh.option.setNumber("Mesh.Algorithm3D", 1)  # Delaunay: HXT refuses these discrete shells
        gmsh.option.setNumber("Mesh.Optimize", 1)
        gmsh.option.setNumber("Mesh.OptimizeNetgen", 1)
        try:
            gmsh.model.mesh.generate(3)
            if order == 2:
                gmsh.option.setNumber("Mesh.SecondOrderLinear", 1)
                gmsh.model.mesh.setOrder(2)
        except Exception as exc:  # gmsh raises bare Exceptions
            raise MeshError(
                f"gmsh could not re-mesh the morphed foot inside its surfaces: {exc}; the morph "
                "has folded a surface: this subject is too far from the template"
            ) from exc
        out = extract_parts(gmsh, parts, order)
    out.surfaces = _carry_surfaces(mesh, out)
    out.landmarks = {k: v.copy() for k, v in mesh.landmarks.items()}
    out.info = {**{k: v for k, v in mesh.info.items() if k != "quality"},
                "remeshed": {"elements_before": len(mesh.elements), "size": size}}  # fmt: skip
    return out


def _carry_surfaces(old: VolumeMesh, new: VolumeMesh) -> dict[str, np.ndarray]:
    """The named surfaces of ``old`` as (element, face) pairs of ``new`` (same surface nodes)."""
    from scipy.spatial import cKDTree

    dist, old_to_new = cKDTree(new.nodes).query(old.nodes)
    keys = face_keys(new.elements)
    n = int(new.elements[:, :4].max()) + 1
    order = np.argsort(keys)
    out = {}
    for name, pairs in old.surfaces.items():
        tri = face_triangles(old.elements, np.asarray(pairs, dtype=np.int64))
        if len(tri) and dist[np.unique(tri)].max() > 1e-9:
            raise MeshError(f"re-meshing moved the nodes of surface {name!r}")
        t = np.sort(old_to_new[tri], axis=1).astype(np.int64)
        want = (t[:, 0] * n + t[:, 1]) * n + t[:, 2]
        pos = np.clip(np.searchsorted(keys[order], want), 0, len(keys) - 1)
        rows = order[pos]
        if np.any(keys[rows] != want):
            raise MeshError(f"re-meshing lost faces of surface {name!r}")
        out[name] = np.column_stack([rows // 4, rows % 4]).astype(np.int64)
    return out
