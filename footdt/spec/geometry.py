"""Geometry sources a subject spec can name. Lengths in mm.

Primitives (box, cylinder, tube, box_with_inclusion) are meshed by ``footdt.mesh.primitives``;
``foot_template`` and ``surfaces`` are the slots for the anatomical template and user
surface files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from footdt.domain import BONES
from footdt.errors import excerpt
from footdt.spec.fields import FilePath, Length, Name, Point, quantity

Vec3 = Point
PositiveLength = Length
if TYPE_CHECKING:
    Angle = float
    Scale = float
    FootLength = float
    FootWidth = float
    ArchHeight = float
    Measurement = float
    ContactDepth = float
    CutHeight = float
else:
    Angle = quantity("degrees", gt=0, le=360)
    Scale = quantity("1", ge=1e-6, le=1e6, hint="the factor that turns file units into mm")
    FootLength = quantity("mm", ge=50, le=1000)
    FootWidth = quantity("mm", ge=20, le=400)
    ArchHeight = quantity("mm", ge=2, le=200)
    Measurement = quantity("mm", gt=0, le=1000)
    ContactDepth = quantity("mm", gt=0, le=100)
    CutHeight = quantity("mm", gt=0, le=1000)


def _names(names: list[str]) -> str:
    """User-given names for a message: at most three, each cut to 40 characters."""
    shown = [n if len(n) <= 40 else excerpt(n) for n in names[:3]]
    return ", ".join(shown) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Box(_Strict):
    """Axis-aligned box from ``origin`` to ``origin + size``. One part: ``body``.

    Named faces: ``xmin xmax ymin ymax zmin zmax``.
    """

    type: Literal["box"]
    size: tuple[PositiveLength, PositiveLength, PositiveLength] = Field(
        description="Edge lengths along x, y, z (mm).", json_schema_extra={"unit": "mm"}
    )
    origin: Vec3 = Field((0.0, 0.0, 0.0), description="Corner with the smallest coordinates (mm).")
    part: Name = Field("body", description="Name of the single part.")


class Cylinder(_Strict):
    """Cylinder along z from ``origin`` (centre of the bottom face). One part: ``body``.

    Named faces: ``bottom top side`` and, for a sector (angle < 360), ``cut_start``
    (the plane at angle 0, i.e. y = 0) and ``cut_end``.
    """

    type: Literal["cylinder"]
    radius: PositiveLength
    height: PositiveLength
    angle: Angle = Field(360.0, description="Sector angle (degrees).")
    origin: Vec3 = (0.0, 0.0, 0.0)
    part: Name = "body"


class Tube(_Strict):
    """Thick-walled tube along z. Named faces: ``inner outer bottom top`` (+ cuts for a sector)."""

    type: Literal["tube"]
    inner_radius: PositiveLength
    outer_radius: PositiveLength
    height: PositiveLength
    angle: Angle = Field(360.0, description="Sector angle (degrees).")
    origin: Vec3 = (0.0, 0.0, 0.0)
    part: Name = "body"

    @model_validator(mode="after")
    def _radii(self) -> Tube:
        if self.inner_radius >= self.outer_radius:
            raise ValueError(
                f"inner_radius ({self.inner_radius}) must be smaller than outer_radius ({self.outer_radius})"
            )
        return self


class BoxWithInclusion(_Strict):
    """A box (part ``matrix``) with an embedded box (part ``inclusion``) sharing nodes at the interface.

    Named faces of the outer box: ``xmin xmax ymin ymax zmin zmax``.
    """

    type: Literal["box_with_inclusion"]
    size: tuple[PositiveLength, PositiveLength, PositiveLength]
    origin: Vec3 = (0.0, 0.0, 0.0)
    inclusion_size: tuple[PositiveLength, PositiveLength, PositiveLength]
    inclusion_center: Vec3 | None = Field(
        None, description="Centre of the inclusion (mm); default the centre of the box."
    )
    matrix_part: Name = "matrix"
    inclusion_part: Name = "inclusion"

    @model_validator(mode="after")
    def _inside(self) -> BoxWithInclusion:
        centre = self.inclusion_center or tuple(
            o + s / 2 for o, s in zip(self.origin, self.size, strict=True)
        )
        for axis, (o, s, c, h) in enumerate(
            zip(self.origin, self.size, centre, self.inclusion_size, strict=True)
        ):
            if not (o < c - h / 2 and c + h / 2 < o + s):
                raise ValueError(
                    f"the inclusion sticks out of the box along {'xyz'[axis]}: keep it strictly inside"
                )
        return self


class FootTemplate(_Strict):
    """The built-in right-foot template, scaled to the subject (filled by the anatomy module)."""

    type: Literal["foot_template"]
    foot_length: FootLength = Field(265.0, description="Heel to longest toe (mm).")
    foot_width: FootWidth = Field(100.0, description="Ball width (mm).")
    arch_height: ArchHeight = Field(40.0, description="Navicular height (mm).")


class UserSurfaces(_Strict):
    """User surface files: one per bone plus the skin (STL/PLY/OBJ/OFF/VTP).

    The tibia and fibula may reach or cross the skin's proximal end: skin, tibia and fibula are
    then cut by the horizontal plane of the skin's flat top (or ``cut_height``), whose faces form
    the ``proximal_cut`` surface (``footdt.anatomy.user_surfaces``).
    """

    type: Literal["surfaces"]
    skin: FilePath
    bones: dict[str, FilePath]
    scale: Scale = Field(1.0, description="Multiply file coordinates by this to get mm.")
    side: Literal["right", "left"] = Field("right", description="Left feet are mirrored (y -> -y).")
    contact_depth: ContactDepth = Field(
        3.0,
        description="Plantar skin within this height of the lowest skin point forms the "
        "plantar contact surface and its regions (mm).",
        json_schema_extra={"unit": "mm"},
    )
    cut_height: CutHeight | None = Field(
        None,
        description="Height of the proximal cut above the lowest skin point (mm): the skin, "
        "tibia and fibula are cut by the horizontal plane there. Default: the skin's flat top "
        "(an opening or a flat cap), used when the skin is open or the tibia or fibula reaches it.",
        json_schema_extra={"unit": "mm"},
    )

    @model_validator(mode="after")
    def _bone_names(self) -> UserSurfaces:
        unknown = sorted(set(self.bones) - set(BONES))
        if unknown:
            raise ValueError(f"unknown bone name(s) {_names(unknown)}; known: {', '.join(BONES)}")
        return self


class Personalised(_Strict):
    """A personalised foot: the template's volume mesh morphed (FFD) onto a statistical shape.

    The shape comes from skin ``measurements`` (mm; e.g. foot_length, foot_width, arch_height —
    ``footdt shape info`` lists the names the shape model knows) or from a ``scan`` surface
    (STL/PLY/OBJ) fitted by the shape model; give exactly one. ``ssm`` names a shape-model file
    (``footdt shape build``); without it the built-in model is used. Every personalised foot
    shares the template's mesh topology; ``remesh: true`` re-meshes the morphed surfaces with gmsh
    instead (new topology) when a morph would distort elements too much.
    """

    type: Literal["personalised"]
    measurements: dict[str, Measurement] | None = Field(
        None,
        description="Skin measurements (mm) the shape must meet.",
        json_schema_extra={"unit": "mm"},
    )
    scan: FilePath | None = Field(None, description="Foot scan surface (STL/PLY/OBJ).")
    scale: Scale = Field(1.0, description="Multiply scan coordinates by this to get mm.")
    side: Literal["right", "left"] = Field("right", description="Left feet are mirrored (y -> -y).")
    ssm: FilePath | None = Field(None, description="Shape-model file; default: the built-in model.")
    remesh: bool = Field(False, description="Re-mesh the morphed surfaces instead of morphing.")

    @model_validator(mode="after")
    def _one_source(self) -> Personalised:
        if (self.measurements is None) == (self.scan is None):
            raise ValueError("give exactly one of `measurements` or `scan`")
        if self.measurements is not None and not self.measurements:
            raise ValueError("`measurements` is empty: give at least foot_length")
        return self

    @field_validator("measurements")
    @classmethod
    def _known_measurements(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        from footdt.shape.measure import ALIASES, MEASUREMENTS

        unknown = sorted(set(value or {}) - set(MEASUREMENTS) - set(ALIASES))
        if unknown:
            known = ", ".join([*MEASUREMENTS, *ALIASES])
            raise ValueError(f"unknown measurement(s) {_names(unknown)}; known: {known}")
        return value


Geometry = Annotated[
    Box | Cylinder | Tube | BoxWithInclusion | FootTemplate | UserSurfaces | Personalised,
    Field(discriminator="type"),
]
