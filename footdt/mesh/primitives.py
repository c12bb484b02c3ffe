"""gmsh meshes of the verification primitives: box, cylinder, tube, box with an embedded box.

Each returns a ``VolumeMesh`` with its parts and the named faces documented in
``footdt.spec.geometry``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from footdt.errors import MeshError, excerpt
from footdt.mesh.gmsh_session import VolumeMesh, extract_volume_mesh, gmsh_session
from footdt.spec.geometry import Box, BoxWithInclusion, Cylinder, Tube
from footdt.spec.subject import MeshOptions

Primitive = Box | Cylinder | Tube | BoxWithInclusion


def mesh_primitive(geometry: Primitive, options: MeshOptions) -> VolumeMesh:
    """Mesh a primitive; refused (``MeshError``) before gmsh starts when the size estimate is over
    the memory limit, and with one line if gmsh itself fails."""
    from footdt.mesh.estimate import check_estimate, estimate_mesh, primitive_measures

    measures = primitive_measures(geometry)
    assert measures is not None
    check_estimate(estimate_mesh(*measures, options))
    try:
        return _mesh_primitive(geometry, options)
    except MeshError:
        raise
    except Exception as exc:  # gmsh raises bare Exceptions (OpenCASCADE, meshing failures)
        if type(exc) is not Exception:
            raise
        raise MeshError(
            f"gmsh could not mesh the {geometry.type}: {excerpt(str(exc), 120)}; check that the "
            "sizes are in mm and that mesh.size is not far below the smallest feature"
        ) from None


def _mesh_primitive(geometry: Primitive, options: MeshOptions) -> VolumeMesh:
    with gmsh_session(seed=options.seed) as gmsh:
        occ = gmsh.model.occ
        if isinstance(geometry, Box):
            vol = occ.addBox(*geometry.origin, *geometry.size)
            volumes = {vol: geometry.part}
        elif isinstance(geometry, BoxWithInclusion):
            outer = occ.addBox(*geometry.origin, *geometry.size)
            c = geometry.inclusion_center or tuple(
                o + s / 2 for o, s in zip(geometry.origin, geometry.size, strict=True)
            )
            h = geometry.inclusion_size
            inner = occ.addBox(c[0] - h[0] / 2, c[1] - h[1] / 2, c[2] - h[2] / 2, *h)
            out, _ = occ.fragment([(3, outer)], [(3, inner)])
            occ.synchronize()
            volumes = {}
            for dim, tag in out:
                if dim != 3:
                    continue
                bb = gmsh.model.getBoundingBox(3, tag)
                is_inner = all(abs((bb[i + 3] - bb[i]) - h[i]) < 1e-6 * max(h) for i in range(3))
                volumes[tag] = geometry.inclusion_part if is_inner else geometry.matrix_part
        else:
            angle = math.radians(geometry.angle)
            ox, oy, oz = geometry.origin
            if isinstance(geometry, Cylinder):
                vol = occ.addCylinder(
                    ox, oy, oz, 0, 0, geometry.height, geometry.radius, angle=angle
                )
            else:
                a = occ.addCylinder(
                    ox, oy, oz, 0, 0, geometry.height, geometry.outer_radius, angle=angle
                )
                b = occ.addCylinder(
                    ox, oy, oz, 0, 0, geometry.height, geometry.inner_radius, angle=angle
                )
                cut, _ = occ.cut([(3, a)], [(3, b)])
                vol = cut[0][1]
            volumes = {vol: geometry.part}
        occ.synchronize()
        _set_sizes(gmsh, volumes, options)
        named = _name_faces(gmsh, geometry)
        gmsh.model.mesh.generate(3)
        if options.order == 2:
            gmsh.model.mesh.setOrder(2)
        mesh = extract_volume_mesh(gmsh, volumes, named, options.order)
    mesh.info["generator"] = "gmsh primitives"
    return mesh


def _set_sizes(gmsh: Any, volumes: dict[int, str], options: MeshOptions) -> None:
    gmsh.option.setNumber("Mesh.MeshSizeMax", options.size)
    gmsh.option.setNumber("Mesh.MeshSizeMin", options.size / 10)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 1)
    gmsh.option.setNumber("Mesh.Algorithm3D", 10)  # HXT: fast, deterministic with one thread
    sizes = sorted(
        ((options.part_sizes.get(p, options.size), t) for t, p in volumes.items()), reverse=True
    )
    for size, tag in sizes:  # smaller sizes last so they win on shared points
        pts = gmsh.model.getBoundary([(3, tag)], combined=False, recursive=True)
        gmsh.model.mesh.setSize(pts, size)


def _name_faces(gmsh: Any, geometry: Primitive) -> dict[str, list[int]]:
    """Classify the outer boundary surfaces of the model by position and shape."""
    vols = gmsh.model.getEntities(3)
    outer = gmsh.model.getBoundary(vols, combined=True, oriented=False)
    named: dict[str, list[int]] = {}
    for _, tag in outer:
        name = _classify(gmsh, geometry, abs(tag))
        named.setdefault(name, []).append(abs(tag))
    return named


def _classify(gmsh: Any, g: Primitive, tag: int) -> str:
    bb = np.asarray(gmsh.model.getBoundingBox(2, tag))
    lo, hi = bb[:3], bb[3:]
    span = hi - lo
    tol = 1e-6 * float(np.max(span) + 1.0)
    if isinstance(g, Box | BoxWithInclusion):
        origin, size = np.asarray(g.origin), np.asarray(g.size)
        axis = int(np.argmin(span))
        side = "min" if abs(lo[axis] - origin[axis]) < tol else "max"
        if side == "max" and abs(hi[axis] - (origin[axis] + size[axis])) > tol:
            return f"surface_{tag}"
        return f"{'xyz'[axis]}{side}"
    ox, oy, oz = g.origin
    if span[2] < tol:
        return "bottom" if abs(lo[2] - oz) < tol else "top"
    umin, umax = gmsh.model.getParametrizationBounds(2, tag)
    p = np.asarray(gmsh.model.getValue(2, tag, [(umin[0] + umax[0]) / 2, (umin[1] + umax[1]) / 2]))
    r = math.hypot(p[0] - ox, p[1] - oy)
    radii = (
        {"side": g.radius}
        if isinstance(g, Cylinder)
        else {"outer": g.outer_radius, "inner": g.inner_radius}
    )
    for name, radius in radii.items():
        # a planar cut face also contains points at mid radius; check curvature through the normal
        normal = np.asarray(
            gmsh.model.getNormal(tag, [(umin[0] + umax[0]) / 2, (umin[1] + umax[1]) / 2])
        )
        radial = np.array([p[0] - ox, p[1] - oy, 0.0]) / max(r, 1e-12)
        if abs(r - radius) < 1e-3 * radius and abs(abs(float(normal @ radial)) - 1) < 1e-6:
            return name
    return "cut_start" if span[1] < tol and abs(lo[1] - oy) < tol else "cut_end"
