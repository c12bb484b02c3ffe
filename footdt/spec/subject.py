"""The subject spec: what to build and load. Units: mm, N, MPa (stated per field in the schema)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from footdt.domain import BONES, SOFT_TISSUE, Stat
from footdt.errors import excerpt
from footdt.spec.fields import MAX_LENGTH_MM, MIN_LENGTH_MM, Name, Seed, count, quantity
from footdt.spec.geometry import (
    Box,
    BoxWithInclusion,
    Cylinder,
    FootTemplate,
    Geometry,
    Personalised,
    Tube,
    UserSurfaces,
    Vec3,
)

if TYPE_CHECKING:
    Modulus = float
    Poisson = float
    Density = float
    Stiffness = float
    Tolerance = float
    Displacement = float
    PressureValue = float
    ForceComponent = float
    MeshSize = float
    Order = int
else:
    Modulus = quantity(
        "MPa", ge=1e-3, le=1e6, hint="Young's modulus in MPa (bone ~7300, steel 210000)"
    )
    Poisson = quantity("1", gt=-1, lt=0.5)
    Density = quantity("tonne/mm^3", gt=0, le=1e-6, hint="steel is 7.85e-9 tonne/mm^3")
    Stiffness = quantity("N/mm", gt=0, le=1e9)
    Tolerance = quantity("mm", gt=0, le=100)
    Displacement = quantity("mm", ge=-1000, le=1000)
    PressureValue = quantity(
        "MPa", ge=-1000, le=1000, hint="a pressure in MPa (plantar pressures are below 1 MPa)"
    )
    ForceComponent = quantity("N", ge=-1e6, le=1e6)
    MeshSize = quantity("mm", ge=MIN_LENGTH_MM, le=MAX_LENGTH_MM)
    Order = count(ge=1, le=2)
DofName = Literal["x", "y", "z"]
StatName = Stat


def _all_dofs() -> list[DofName]:
    return ["x", "y", "z"]


def _all_stats() -> list[StatName]:
    return list(get_args(Stat))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinearElastic(_Strict):
    """Isotropic linear elasticity."""

    model: Literal["linear_elastic"] = "linear_elastic"
    E: Modulus = Field(description="Young's modulus (MPa).")
    nu: Poisson = Field(description="Poisson's ratio (-1 < nu < 0.5).")
    density: Density | None = Field(
        None, description="Mass density (tonne/mm^3); unused by static solves."
    )


class Section(_Strict):
    """Assigns a material to one part (a solid section)."""

    part: Name
    material: Name


class NodeRef(_Strict):
    """A connector endpoint: a named landmark or an explicit point (snapped to the nearest node)."""

    landmark: Name | None = None
    point: Vec3 | None = Field(None, description="Coordinates (mm).")

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
    stiffness: Stiffness = Field(description="Axial stiffness (N/mm).")
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
    tolerance: Tolerance = Field(0.5, description="Position tolerance (mm).")


class BoundaryCondition(_Strict):
    """Prescribed displacement on the nodes of a named surface, node set or landmark."""

    name: Name | None = None
    on: Name = Field(description="Surface, node set or landmark name.")
    dofs: list[DofName] = Field(default_factory=_all_dofs, min_length=1, max_length=3)

    @field_validator("dofs")
    @classmethod
    def _distinct_dofs(cls, dofs: list[str]) -> list[str]:
        _refuse_repeats(dofs)
        return dofs

    value: Displacement = Field(0.0, description="Prescribed displacement (mm).")


class Pressure(_Strict):
    """Uniform pressure on a named surface; positive pushes into the body (Abaqus convention)."""

    surface: Name
    value: PressureValue = Field(
        description="Pressure (MPa); positive acts against the outward normal."
    )


class Force(_Strict):
    """A concentrated force (N): its total is spread over the nodes of a surface, node set or landmark.

    ``distribution: area`` gives the consistent nodal loads of a uniform traction on a surface
    (exact for linear triangles); ``equal`` splits the total equally over the nodes.
    """

    on: Name
    total: tuple[ForceComponent, ForceComponent, ForceComponent] = Field(
        description="Force vector (N)."
    )
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

    @field_validator("pressures")
    @classmethod
    def _one_pressure_per_surface(cls, pressures: list[Pressure]) -> list[Pressure]:
        first: dict[str, int] = {}
        for i, p in enumerate(pressures):
            if p.surface in first:
                raise ValueError(
                    f"entries {first[p.surface]} and {i} both put a pressure on surface "
                    f"'{p.surface}' (they would not add up): give one entry with the total"
                )
            first[p.surface] = i
        return pressures

    @field_validator("forces")
    @classmethod
    def _one_force_per_target(cls, forces: list[Force]) -> list[Force]:
        """Unnamed forces on one target would add up silently; named ones are separate loads on
        purpose (e.g. soleus and gastrocnemii on the Achilles insertion), but a name is used once."""
        first: dict[tuple[str, str | None], int] = {}
        for i, f in enumerate(forces):
            key = (f.on, f.name)
            if key in first:
                what = f"force {f.name!r}" if f.name else "an unnamed force"
                raise ValueError(
                    f"entries {first[key]} and {i} both put {what} on '{f.on}' (they would add "
                    "up silently): give one entry with the total, or name them differently"
                )
            first[key] = i
        return forces

    @field_validator("boundary_conditions")
    @classmethod
    def _consistent_bcs(cls, bcs: list[BoundaryCondition]) -> list[BoundaryCondition]:
        check_bc_conflicts(bcs)
        return bcs


def check_bc_conflicts(bcs: list[BoundaryCondition], where: str = "") -> None:
    """Refuse two boundary conditions that prescribe different values for one DOF of one set."""
    seen: dict[tuple[str, str], float] = {}
    for bc in bcs:
        for d in bc.dofs:
            prev = seen.setdefault((bc.on, d), bc.value)
            if prev != bc.value:
                raise ValueError(
                    f"two boundary conditions on '{bc.on}' prescribe {d} = {prev:g} mm and "
                    f"{bc.value:g} mm{where}: keep one"
                )


class MeshOptions(_Strict):
    size: MeshSize = Field(5.0, description="Target element size (mm).")
    part_sizes: dict[Name, MeshSize] = Field(
        default_factory=dict, description="Per-part element size (mm)."
    )
    order: Order = Field(1, description="1: linear tets (C3D4), 2: quadratic tets (C3D10).")
    seed: Seed = Field(0, description="Meshing seed (gmsh General.RandomSeed).")


class Outputs(_Strict):
    parts: list[Name] | None = Field(None, description="Parts to label; default all parts.")
    statistics: list[StatName] = Field(default_factory=_all_stats, min_length=1)

    @field_validator("parts", "statistics")
    @classmethod
    def _distinct(cls, names: list[str] | None) -> list[str] | None:
        _refuse_repeats(names or [])
        return names


def _refuse_repeats(items: list[str]) -> None:
    dup = [x for x, n in Counter(items).items() if n > 1]
    if dup:
        raise ValueError(f"'{dup[0]}' is listed more than once: keep one")


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
    node_sets: dict[Name, Annotated[list[Vec3], Field(min_length=1)]] = Field(
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

    @field_validator("mesh")
    @classmethod
    def _mesh_fits_the_model(cls, mesh: MeshOptions, info: ValidationInfo) -> MeshOptions:
        geometry = info.data.get("geometry")
        parts = geometry_parts(geometry)
        unknown = sorted(set(mesh.part_sizes) - parts) if parts else []
        if unknown:
            raise ValueError(
                f"part_sizes names no part of this geometry: {excerpt(unknown, 60)}; parts: "
                f"{excerpt(sorted(parts), 120)}"
            )
        extent = geometry_extent(geometry)
        if extent is None:
            return mesh
        for what, size in (
            ("size", mesh.size),
            *((f"part_sizes.{k}", v) for k, v in mesh.part_sizes.items()),
        ):
            if size > extent:
                raise ValueError(
                    f"{what} {size:g} mm is larger than the model itself (largest dimension "
                    f"{extent:g} mm) and would give a handful of elements; use a tenth of that "
                    "or less"
                )
        return mesh

    @field_validator("sections")
    @classmethod
    def _known_materials(cls, sections: list[Section], info: ValidationInfo) -> list[Section]:
        materials = info.data.get("materials")
        if materials is None:
            return sections
        for i, s in enumerate(sections):
            if s.material not in materials:
                raise ValueError(
                    f"{i}.material: no material named '{s.material}'; defined: "
                    f"{excerpt(sorted(materials), 80)}"
                )
        return sections

    @field_validator("boundary_conditions")
    @classmethod
    def _consistent_bcs(cls, bcs: list[BoundaryCondition]) -> list[BoundaryCondition]:
        check_bc_conflicts(bcs)
        return bcs

    @field_validator("phases")
    @classmethod
    def _phase_loads(cls, phases: list[Phase], info: ValidationInfo) -> list[Phase]:
        common = info.data.get("boundary_conditions") or []
        anatomical = isinstance(
            info.data.get("geometry"), FootTemplate | UserSurfaces | Personalised
        )
        for i, p in enumerate(phases):
            if p.boundary_conditions:
                check_bc_conflicts([*common, *p.boundary_conditions], f" in phase '{p.name}'")
            if anatomical:
                _check_foot_loads(i, p)
        return phases

    @model_validator(mode="after")
    def _unique_names(self) -> SubjectSpec:
        for what, names in (
            ("phase", [p.name for p in self.phases]),
            ("connector", [c.name for c in self.connectors]),
            ("section part", [s.part for s in self.sections]),
            (
                "boundary condition",
                [bc.name for p in self.phases for bc in p.boundary_conditions if bc.name]
                + [bc.name for bc in self.boundary_conditions if bc.name],
            ),
        ):
            dup = sorted(n for n, k in Counter(names).items() if k > 1)
            if dup:
                raise ValueError(f"duplicate {what} name(s): {excerpt(dup, 80)}")
        return self


#: Physical limits of the loads on a foot: plantar pressures push (>= 0) and stay below
#: 10 MPa (peaks in running are about 1 MPa); a tendon or joint force stays below 20 kN (the
#: Achilles carries up to about 12 body weights, ~10 kN).
MAX_FOOT_PRESSURE_MPA = 10.0
MAX_FOOT_FORCE_N = 20_000.0


def _check_foot_loads(i: int, phase: Phase) -> None:
    for j, pr in enumerate(phase.pressures):
        if not 0 <= pr.value <= MAX_FOOT_PRESSURE_MPA:
            raise ValueError(
                f"{i}.pressures.{j}.value: a pressure on a foot must be >= 0 and <= "
                f"{MAX_FOOT_PRESSURE_MPA:g} MPa (running peaks are about 1 MPa), got {pr.value:g} "
                "MPa: check the units (MPa = N/mm^2)"
            )
    for j, f in enumerate(phase.forces):
        norm = sum(c * c for c in f.total) ** 0.5
        if norm > MAX_FOOT_FORCE_N:
            raise ValueError(
                f"{i}.forces.{j}.total: a force on a foot must stay below {MAX_FOOT_FORCE_N:g} N "
                f"(the Achilles carries up to ~10 kN), got {norm:g} N: check the units (N)"
            )


def geometry_parts(geometry: object) -> set[str]:
    """Names of the parts a geometry meshes into (empty when unknown)."""
    if isinstance(geometry, Box | Cylinder | Tube):
        return {geometry.part}
    if isinstance(geometry, BoxWithInclusion):
        return {geometry.matrix_part, geometry.inclusion_part}
    if geometry is not None:
        return {*BONES, SOFT_TISSUE}
    return set()


def geometry_extent(geometry: object) -> float | None:
    """The largest dimension (mm) of a primitive or template geometry; None when unknown before
    meshing (user surfaces, personalised feet)."""
    if isinstance(geometry, Box | BoxWithInclusion):
        return max(geometry.size)
    if isinstance(geometry, Cylinder):
        return max(2 * geometry.radius, geometry.height)
    if isinstance(geometry, Tube):
        return max(2 * geometry.outer_radius, geometry.height)
    if isinstance(geometry, FootTemplate):
        return geometry.foot_length
    return None
