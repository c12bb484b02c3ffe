"""Pass 5: boundary conditions and phase loads (pressures, consistent nodal forces).

With ``load_steps: carry_forward`` each IR phase holds every load in force in that step under
Abaqus's default (OP=MOD) step semantics, resolved here, so that every backend solves the same
independent load cases (and the Abaqus deck restates them with OP=NEW, which means the same)."""

from __future__ import annotations

import numpy as np

from footdt.compile.resolve_sets import Sets
from footdt.ir import TET_FACES, FixedDofs, NodalLoad, Phase, Pressure
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.spec.loader import Loc, SourceMap
from footdt.spec.subject import BoundaryCondition, Force, SubjectSpec

_DOF = {"x": 0, "y": 1, "z": 2}


def _fixed(
    bc: BoundaryCondition, sets: Sets, source: SourceMap, loc: Loc, default: str
) -> FixedDofs:
    sets.nodes_of(bc.on, source, (*loc, "on"))
    if bc.on in sets.landmarks and bc.on not in sets.node_sets:
        sets.node_sets[bc.on] = np.array([sets.landmarks[bc.on]])
    return FixedDofs(
        bc.name or default, bc.on, tuple(sorted(_DOF[d] for d in set(bc.dofs))), bc.value
    )


def _force(
    force: Force, mesh: VolumeMesh, sets: Sets, source: SourceMap, loc: Loc
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and per-node forces whose sum is ``force.total``."""
    total = np.asarray(force.total, dtype=np.float64)
    if force.distribution == "area":
        if force.on not in sets.surfaces:
            raise source.error(
                (*loc, "distribution"),
                f"'area' distribution needs a surface, and {force.on!r} is not one; use distribution: equal",
            )
        faces = sets.surfaces[force.on]
        if mesh.cell_type != "tetra":
            raise source.error(
                (*loc, "distribution"),
                "'area' distribution is implemented for linear tets (mesh.order: 1)",
            )
        tri = np.take_along_axis(
            mesh.elements[faces[:, 0]], np.asarray(TET_FACES)[faces[:, 1]], axis=1
        )
        p = mesh.nodes[tri]
        area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
        nodes, inverse = np.unique(tri, return_inverse=True)
        # uniform traction t = total / A on linear triangles: each corner receives area/3 * t
        weight = np.bincount(
            inverse.ravel(), weights=np.repeat(area / 3.0, 3), minlength=len(nodes)
        ).astype(np.float64)
        weight = weight / weight.sum()
    else:
        nodes = sets.nodes_of(force.on, source, (*loc, "on"))
        weight = np.full(len(nodes), 1.0 / len(nodes))
    return nodes, weight[:, None] * total[None, :]


def apply_loads(
    spec: SubjectSpec, mesh: VolumeMesh, sets: Sets, source: SourceMap
) -> tuple[Phase, ...]:
    common = [
        _fixed(bc, sets, source, ("boundary_conditions", i), f"bc_{i + 1}")
        for i, bc in enumerate(spec.boundary_conditions)
    ]
    phases: list[Phase] = []
    for p, ph in enumerate(spec.phases):
        loc: Loc = ("phases", p)
        pressures = []
        for j, pr in enumerate(ph.pressures):
            if pr.surface not in sets.surfaces:
                raise source.error(
                    (*loc, "pressures", j, "surface"),
                    f"no surface named {pr.surface!r}; surfaces: {', '.join(sorted(sets.surfaces))}",
                )
            pressures.append(Pressure(pr.surface, pr.value))
        loads = []
        for j, fo in enumerate(ph.forces):
            nodes, forces = _force(fo, mesh, sets, source, (*loc, "forces", j))
            set_name = f"{ph.name}_force_{j + 1}"
            sets.node_sets[set_name] = nodes
            loads.append(NodalLoad(set_name, set_name, forces))
        own = [
            _fixed(bc, sets, source, (*loc, "boundary_conditions", j), f"{ph.name}_bc_{j + 1}")
            for j, bc in enumerate(ph.boundary_conditions)
        ]
        if spec.load_steps == "carry_forward":  # a force is known by its name, else its target
            keys = [fo.name or fo.on for fo in ph.forces]
            loads = [
                NodalLoad(k, ld.node_set, ld.forces) for k, ld in zip(keys, loads, strict=True)
            ]
            if phases:
                pressures, loads, own = _carried(phases[-1], len(common), pressures, loads, own)
        phases.append(Phase(ph.name, tuple(pressures), tuple(loads), tuple(common + own)))
    return tuple(phases)


def _carried(
    previous: Phase,
    n_common: int,
    pressures: list[Pressure],
    loads: list[NodalLoad],
    fixed: list[FixedDofs],
) -> tuple[list[Pressure], list[NodalLoad], list[FixedDofs]]:
    """A phase's loads under OP=MOD: the previous phase's loads it does not replace, then its own.

    Replaced: a pressure on the same surface; a force of the same key (``NodalLoad.name``: the
    spec force's ``name``, else its target); a phase boundary condition on the same node set and
    dofs."""
    surfaces = {p.surface for p in pressures}
    kept_p = [p for p in previous.pressures if p.surface not in surfaces]
    keys = {ld.name for ld in loads}
    kept_f = [ld for ld in previous.nodal_loads if ld.name not in keys]
    bcs = {(f.node_set, f.dofs) for f in fixed}
    kept_b = [f for f in previous.fixed[n_common:] if (f.node_set, f.dofs) not in bcs]
    return kept_p + pressures, kept_f + loads, kept_b + fixed
