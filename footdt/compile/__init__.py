"""Compile a subject spec into an ``AnalysisModel``: verb-named passes, called in order from here."""

from __future__ import annotations

from footdt import __version__
from footdt.compile.apply_loads import apply_loads
from footdt.compile.assign_sections import assign_sections
from footdt.compile.build_connectors import build_connectors
from footdt.compile.mesh_geometry import mesh_geometry
from footdt.compile.request_outputs import request_outputs, request_ties
from footdt.compile.resolve_sets import resolve_sets
from footdt.errors import SpecError
from footdt.ir import AnalysisModel, validate
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.spec.loader import LoadedSpec
from footdt.spec.subject import SubjectSpec


def compile_spec(loaded: LoadedSpec, mesh: VolumeMesh | None = None) -> AnalysisModel:
    """Lower a loaded subject spec to the solver-neutral IR (meshing it unless ``mesh`` is given)."""
    spec, source = loaded.spec, loaded.source
    if not isinstance(spec, SubjectSpec):
        raise SpecError(
            f"{source.where(('kind',))}: kind: only subject specs compile to an FE model"
        )
    mesh = mesh or mesh_geometry(spec, source)
    materials, sections = assign_sections(spec, mesh, source)
    sets = resolve_sets(spec, mesh, source)
    connectors = build_connectors(spec, mesh, sets, source)
    phases = apply_loads(spec, mesh, sets, source)
    ties = request_ties(spec, sets, source)
    outputs = request_outputs(spec, list(mesh.parts), source)
    model = AnalysisModel(
        subject=spec.id,
        trial=spec.trial,
        nodes=mesh.nodes,
        cell_type=mesh.cell_type,  # type: ignore[arg-type]
        elements=mesh.elements,
        parts=mesh.parts,
        materials=materials,
        sections=sections,
        node_sets=sets.node_sets,
        surfaces=sets.surfaces,
        connectors=connectors,
        ties=ties,
        phases=phases,
        outputs=outputs,
        provenance={
            "footdt_version": __version__,
            "spec_hash": loaded.hash,
            "spec_path": str(source.path),
            "mesh_quality": mesh.info.get("quality", {}).get("overall"),
            **(
                {"personalisation": mesh.info["personalisation"]}
                if "personalisation" in mesh.info
                else {}
            ),
        },
    )
    model.provenance["mesh_hash"] = model.mesh_hash()
    return validate(model)  # every invariant, the rigid-body check (pass 6) included
