"""Pass 1: turn the spec's geometry into a conforming tetrahedral mesh with parts and named faces."""

from __future__ import annotations

from footdt.mesh.gmsh_session import VolumeMesh
from footdt.spec.geometry import Box, BoxWithInclusion, Cylinder, Tube
from footdt.spec.loader import SourceMap
from footdt.spec.subject import SubjectSpec


def mesh_geometry(spec: SubjectSpec, source: SourceMap) -> VolumeMesh:
    geometry = spec.geometry
    if isinstance(geometry, Box | Cylinder | Tube | BoxWithInclusion):
        from footdt.mesh.primitives import mesh_primitive

        known = (
            {geometry.part}
            if not isinstance(geometry, BoxWithInclusion)
            else {geometry.matrix_part, geometry.inclusion_part}
        )
        for part in spec.mesh.part_sizes:
            if part not in known:
                raise source.error(
                    ("mesh", "part_sizes", part), f"no part named {part!r}; parts: {sorted(known)}"
                )
        return mesh_primitive(geometry, spec.mesh)
    raise source.error(
        ("geometry", "type"),
        f"geometry type {geometry.type!r} is part of the spec language, but its mesher is not in this "
        "footdt release yet (it comes with the foot-model work); use box, cylinder, tube or "
        "box_with_inclusion",
    )
