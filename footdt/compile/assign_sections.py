"""Pass 2: give every part a material through its section."""

from __future__ import annotations

from footdt.ir import Material
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.spec.loader import SourceMap
from footdt.spec.subject import SubjectSpec


def assign_sections(
    spec: SubjectSpec, mesh: VolumeMesh, source: SourceMap
) -> tuple[dict[str, Material], dict[str, str]]:
    sections: dict[str, str] = {}
    for i, sec in enumerate(spec.sections):
        if sec.part not in mesh.parts:
            raise source.error(
                ("sections", i, "part"),
                f"no part named {sec.part!r}; the geometry has {sorted(mesh.parts)}",
            )
        if sec.material not in spec.materials:
            raise source.error(
                ("sections", i, "material"),
                f"no material named {sec.material!r}; defined: {sorted(spec.materials)}",
            )
        sections[sec.part] = sec.material
    missing = sorted(set(mesh.parts) - set(sections))
    if missing:
        raise source.error(
            ("sections",),
            f"part(s) {missing} have no section: add `- {{part: {missing[0]}, material: ...}}`",
        )
    used = set(sections.values())
    materials = {n: Material(n, m.E, m.nu) for n, m in spec.materials.items() if n in used}
    return materials, sections
