"""The subject spec: what to build and load. Units: mm, N, MPa (stated per field in the schema)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from footdt.spec.geometry import Geometry, Vec3

Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")]
DofName = Literal["x", "y", "z"]
StatName = Literal["mean", "p95", "p99", "max"]


def _unit(unit: str) -> dict[str, JsonValue]:
    return {"unit": unit}


def _all_dofs() -> list[DofName]:
    return ["x", "y", "z"]


def _all_stats() -> list[StatName]:
    return ["mean", "p95", "p99", "max"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinearElastic(_Strict):
    """Isotropic linear elasticity."""

    model: Literal["linear_elastic"] = "linear_elastic"
    E: float = Field(
        gt=0, le=1e6, description="Young's modulus (MPa).", json_schema_extra=_unit("MPa")
    )
    nu: float = Field(
        gt=-1.0,
        lt=0.5,
        description="Poisson's ratio (-1 < nu < 0.5).",
        json_schema_extra=_unit("1"),
    )
    density: float | None = Field(
        None,
        gt=0,
        description="Mass density (tonne/mm^3); unused by static solves.",
        json_schema_extra=_unit("tonne/mm^3"),
    )


class Section(_Strict):
    """Assigns a material to one part (a solid section)."""

    part: Name
    material: Name


class NodeRef(_Strict):
    """A connector endpoint: a named landmark or an explicit point (snapped to the nearest node)."""

    landmark: Name | None = None
    point: Vec3 | None = Field(None, description="Coordinates (mm).", json_schema_extra=_unit("mm"))

    @model_validator(mode="after")
    def _one(self) -> NodeRef:
        if (self.landmark is None) == (self.point is None):
            raise ValueError("give exactly one of 'landmark' or 'point'")
        return self


class Connector(_Strict):
    """A two-node spring (e.g. a plantar-fascia band)."""

    name: Name
    a: NodeRef
    b: NodeRef
    stiffness: float = Field(
        gt=0, description="Axial stiffness (N/mm).", json_schema_extra=_unit("N/mm")
    )
    law: Literal["linear", "tension_only", "slip_ring"] = Field(
        "linear",
        description="linear: resists tension and compression; tension_only: slack in compression; "
        "slip_ring: Abaqus SLIPRING connector (abaqus backend only).",
    )


class Tie(_Strict):
    """Bonds two surfaces whose meshes do not share nodes (not needed for conforming meshes)."""

    name: Name
    slave: Name = Field(description="Surface whose nodes are tied (follower).")
    master: Name = Field(description="Surface they are tied to (leader).")
    tolerance: float = Field(
        0.5, gt=0, description="Position tolerance (mm).", json_schema_extra=_unit("mm")
    )


class BoundaryCondition(_Strict):
    """Prescribed displacement on the nodes of a named surface, node set or landmark."""

    name: Name | None = None
    on: Name = Field(description="Surface, node set or landmark name.")
    dofs: list[DofName] = Field(default_factory=_all_dofs, min_length=1)
    value: float = Field(
        0.0, description="Prescribed displacement (mm).", json_schema_extra=_unit("mm")
    )


class Pressure(_Strict):
    """Uniform pressure on a named surface; positive pushes into the body (Abaqus convention)."""

    surface: Name
    value: float = Field(
        description="Pressure (MPa); positive acts against the outward normal.",
        json_schema_extra=_unit("MPa"),
    )


class Force(_Strict):
    """A concentrated force (N): its total is spread over the nodes of a surface, node set or landmark.

    ``distribution: area`` gives the consistent nodal loads of a uniform traction on a surface
    (exact for linear triangles); ``equal`` splits the total equally over the nodes.
    """

    on: Name
    total: Vec3 = Field(description="Force vector (N).", json_schema_extra=_unit("N"))
    distribution: Literal["area", "equal"] = "area"
    name: Name | None = Field(
        None,
        description="The load's identity for `load_steps: carry_forward` (default: `on`): a force "
        "of a later phase replaces the carried force of the same name and adds to the others, "
        "like a named load of Abaqus/CAE.",
    )


class Phase(_Strict):
    """One load case (a quasi-static step). Loads carry over between phases only with the
    subject's ``load_steps: carry_forward``."""

    name: Name
    pressures: list[Pressure] = Field(default_factory=list)
    forces: list[Force] = Field(default_factory=list)
    boundary_conditions: list[BoundaryCondition] = Field(
        default_factory=list, description="Extra boundary conditions for this phase only."
    )


class MeshOptions(_Strict):
    size: float = Field(
        5.0, gt=0, description="Target element size (mm).", json_schema_extra=_unit("mm")
    )
    part_sizes: dict[Name, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="Per-part element size (mm)."
    )
    order: Literal[1, 2] = Field(1, description="1: linear tets (C3D4), 2: quadratic tets (C3D10).")
    seed: int = Field(0, description="Meshing seed (gmsh General.RandomSeed).")


class Outputs(_Strict):
    parts: list[Name] | None = Field(None, description="Parts to label; default all parts.")
    statistics: list[StatName] = Field(default_factory=_all_stats)


class SubjectSpec(_Strict):
    """A subject spec: geometry, materials, connectors, boundary conditions and phase loads."""

    kind: Literal["subject"] = "subject"
    id: Name = Field(description="Subject id; labels are stored under it.")
    trial: Name = Field("1", description="Trial id the loads come from.")
    description: str = ""
    units: Literal["mm-N-MPa"] = Field(
        "mm-N-MPa", description="The only unit system: mm, N, MPa, s."
    )
    geometry: Geometry
    mesh: MeshOptions = Field(default_factory=MeshOptions)
    materials: dict[Name, LinearElastic] = Field(min_length=1)
    sections: list[Section] = Field(min_length=1)
    landmarks: dict[Name, Vec3] = Field(default_factory=dict, description="Named points (mm).")
    node_sets: dict[Name, list[Vec3]] = Field(
        default_factory=dict,
        description="Named sets of points (mm), each snapped to its nearest node.",
    )
    connectors: list[Connector] = Field(default_factory=list)
    ties: list[Tie] = Field(default_factory=list)
    boundary_conditions: list[BoundaryCondition] = Field(
        default_factory=list, description="Applied in every phase."
    )
    phases: list[Phase] = Field(min_length=1)
    load_steps: Literal["independent", "carry_forward"] = Field(
        "independent",
        description="independent: each phase has only its own loads. carry_forward: Abaqus's "
        "default step semantics (OP=MOD), the loads in force at the end of the previous phase "
        "stay unless the phase replaces them: a pressure on the same surface, a force of the same "
        "name (default: its `on`), a phase boundary condition on the same set and dofs.",
    )
    outputs: Outputs = Field(default_factory=Outputs)

    @model_validator(mode="after")
    def _unique_names(self) -> SubjectSpec:
        for what, names in (
            ("phase", [p.name for p in self.phases]),
            ("connector", [c.name for c in self.connectors]),
            ("section part", [s.part for s in self.sections]),
        ):
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"duplicate {what} name(s): {', '.join(dup)}")
        return self
