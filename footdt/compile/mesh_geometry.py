"""Pass 1: turn the spec's geometry into a conforming tetrahedral mesh with parts and named faces."""

from __future__ import annotations

from footdt.mesh.gmsh_session import VolumeMesh
from footdt.spec.geometry import Box, BoxWithInclusion, Cylinder, Personalised, Tube
from footdt.spec.loader import SourceMap
from footdt.spec.subject import SubjectSpec


def mesh_geometry(spec: SubjectSpec, source: SourceMap) -> VolumeMesh:
    """Mesh the geometry, then stop at the quality gate (footdt.mesh.quality) if it fails."""
    from footdt.errors import MeshError
    from footdt.mesh.quality import check_quality, quality_report

    mesh = _mesh(spec, source)
    report = mesh.quality or quality_report(mesh)  # a morphed template comes with its report
    mesh.quality = report
    mesh.info["quality"] = report.as_dict()
    try:
        check_quality(report)
    except MeshError as exc:
        raise MeshError(f"{source.where(('mesh',))}: {exc}") from exc
    return mesh


def _mesh(spec: SubjectSpec, source: SourceMap) -> VolumeMesh:
    from footdt.errors import MeshError, shorten

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
        try:
            return mesh_primitive(geometry, spec.mesh)
        except MeshError as exc:
            raise MeshError(shorten(f"{source.where(('mesh',))}: mesh: {exc}")) from None

    if isinstance(geometry, Personalised):
        return _personalise(geometry, spec, source)
    from footdt.mesh.foot import mesh_foot

    try:
        return mesh_foot(geometry, spec.mesh, base=source.path.parent)
    except MeshError as exc:
        raise MeshError(f"{source.where(('geometry',))}: {exc}") from exc


def _personalise(geometry: Personalised, spec: SubjectSpec, source: SourceMap) -> VolumeMesh:
    """The template mesh morphed to the subject (footdt.shape.personalise); errors at file:line."""
    import warnings

    from footdt.errors import MeshError
    from footdt.shape.personalise import personalise
    from footdt.shape.ssm import ShapeError

    try:
        mesh, report = personalise(geometry, spec.mesh, base=source.path.parent)
    except ShapeError as exc:
        named = exc.field is not None and exc.field in (geometry.measurements or {})
        loc = ("geometry", "measurements", str(exc.field)) if named else ("geometry",)
        raise ShapeError(f"{source.where(loc)}: {exc}", field=exc.field) from exc
    except MeshError as exc:
        raise MeshError(f"{source.where(('geometry',))}: {exc}") from exc
    for message in report.warnings:
        warnings.warn(f"{source.where(('geometry',))}: {message}", stacklevel=2)
    return mesh
