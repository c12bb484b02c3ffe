"""Estimate the size of a tetrahedral mesh (and of its solve) before meshing, and refuse big ones.

The element count of a gmsh mesh with target edge length h is modelled as
``a * V / h^3 + b * A / h^2`` (volume term plus a surface term for the layers of smaller elements
along skin and bone surfaces); ``a`` and ``b`` were fitted to the foot template at 5, 4, 3 and
2 mm (docs/anatomy.md). Linear tets have about ``elements / 5.4`` nodes; a quadratic mesh adds
one node per edge (edges ~ nodes + elements). Memory:

* meshing (gmsh, peak resident): ``MESH_BASE_BYTES + MESH_BYTES_PER_ELEMENT * elements``;
* direct solve: the sparse Cholesky factor grows like dof^(4/3) for 3D meshes; anchored at the
  measured 1.4 GB for 146k free DOF with PARDISO (REFERENCE.md).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from footdt.errors import MeshError, shorten
from footdt.spec.geometry import Box, BoxWithInclusion, Cylinder, Tube
from footdt.spec.subject import MeshOptions

if TYPE_CHECKING:
    from footdt.spec.loader import SourceMap
    from footdt.spec.subject import SubjectSpec

#: Fitted coefficients of the element-count model (see module docstring).
VOLUME_COEFF = 3.5
SURFACE_COEFF = 5.1
NODES_PER_ELEMENT = 1.0 / 5.4
#: Peak meshing memory (bytes): a base plus a cost per element, fitted to the template meshed with
#: gmsh 4.15 at 5-2 mm (160 MB + 494 B/element measured; rounded up).
MESH_BASE_BYTES = 2.0e8
MESH_BYTES_PER_ELEMENT = 600.0
#: Direct-solve anchor: bytes at 146k DOF, scaled by (dof / 146k) ** (4/3).
SOLVE_ANCHOR_DOF, SOLVE_ANCHOR_BYTES = 146_000, 1.4e9


@dataclass(frozen=True)
class MeshEstimate:
    """Predicted size of a mesh and of its direct solve (counts, bytes)."""

    size: float
    volume_mm3: float
    area_mm2: float
    elements: int
    nodes: int
    dofs: int
    mesh_bytes: float
    solve_bytes: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def describe(self) -> str:
        return (
            f"~{self.nodes:,} nodes, ~{self.elements:,} elements at {self.size:g} mm; meshing needs "
            f"~{self.mesh_bytes / 1e9:.1f} GB, a direct solve ~{self.solve_bytes / 1e9:.1f} GB"
        )


def estimate_mesh(volume_mm3: float, area_mm2: float, options: MeshOptions) -> MeshEstimate:
    """Estimate counts and memory from the geometry's volume and surface area at ``options``.

    Per-part sizes are taken into account through the smallest size used (an upper bound).
    """
    h = min([options.size, *options.part_sizes.values()])
    elements = VOLUME_COEFF * volume_mm3 / h**3 + SURFACE_COEFF * area_mm2 / h**2
    nodes = elements * NODES_PER_ELEMENT
    if options.order == 2:
        nodes = 2 * nodes + elements
    dofs = 3 * nodes
    solve = SOLVE_ANCHOR_BYTES * (dofs / SOLVE_ANCHOR_DOF) ** (4.0 / 3.0)
    return MeshEstimate(
        size=h,
        volume_mm3=volume_mm3,
        area_mm2=area_mm2,
        elements=int(elements),
        nodes=int(nodes),
        dofs=int(dofs),
        mesh_bytes=MESH_BASE_BYTES + MESH_BYTES_PER_ELEMENT * elements,
        solve_bytes=solve,
    )


def machine_memory_bytes() -> float:
    """Physical memory of this machine (bytes)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8e9


def check_estimate(
    est: MeshEstimate, memory_limit_gb: float | None = None, *, solve: bool = False
) -> None:
    """Raise ``MeshError`` with the estimate if meshing (or, with ``solve``, solving) would need
    more than ``memory_limit_gb`` (default: 80 % of this machine's memory)."""
    limit = memory_limit_gb * 1e9 if memory_limit_gb is not None else 0.8 * machine_memory_bytes()
    need = max(est.mesh_bytes, est.solve_bytes) if solve else est.mesh_bytes
    if need > limit:
        what = "solving" if solve and est.solve_bytes >= est.mesh_bytes else "meshing"
        raise MeshError(
            f"mesh size {est.size:g} mm is too fine: {est.describe()}, over the {limit / 1e9:.1f} GB "
            f"limit for {what}; use a larger mesh.size or part_sizes"
        )


def primitive_measures(geometry: object) -> tuple[float, float] | None:
    """Volume (mm^3) and surface area (mm^2) of a primitive geometry; None for other kinds."""
    if isinstance(geometry, Box | BoxWithInclusion):
        a, b, c = geometry.size
        volume, area = a * b * c, 2 * (a * b + b * c + c * a)
        if isinstance(geometry, BoxWithInclusion):
            x, y, z = geometry.inclusion_size
            area += 2 * (x * y + y * z + z * x)
        return volume, area
    if isinstance(geometry, Cylinder | Tube):
        f = geometry.angle / 360.0
        h = geometry.height
        if isinstance(geometry, Cylinder):
            r_out, r_in = geometry.radius, 0.0
        else:
            r_out, r_in = geometry.outer_radius, geometry.inner_radius
        ring = math.pi * (r_out**2 - r_in**2)
        area = 2 * f * ring + f * 2 * math.pi * (r_out + r_in) * h
        if geometry.angle < 360:
            area += 2 * (r_out - r_in) * h
        return f * ring * h, area
    return None


#: Skin volume (mm^3) and skin + bone surface area (mm^2) of the built-in template at its default
#: 265 mm length (``footdt.mesh.foot._template_measures``; tests/spec/test_hostile.py checks them).
TEMPLATE_VOLUME_MM3, TEMPLATE_AREA_MM2, TEMPLATE_LENGTH_MM = 1.133e6, 1.288e5, 265.0


def foot_measures(geometry: object) -> tuple[float, float] | None:
    """Volume and area of a template or personalised foot, scaled from the default template by
    its length (for an estimate before anything is built); None for other geometries."""
    from footdt.spec.geometry import FootTemplate, Personalised

    if isinstance(geometry, FootTemplate):
        length = geometry.foot_length
    elif isinstance(geometry, Personalised):
        length = (geometry.measurements or {}).get("foot_length", TEMPLATE_LENGTH_MM)
    else:
        return None
    k = length / TEMPLATE_LENGTH_MM
    return TEMPLATE_VOLUME_MM3 * k**3, TEMPLATE_AREA_MM2 * k**2


def check_spec_estimate(
    spec: SubjectSpec, source: SourceMap | None = None, memory_limit_gb: float | None = None
) -> MeshEstimate | None:
    """For a primitive, template or personalised geometry, estimate the mesh and refuse it
    (``MeshError`` at the spec's ``mesh`` line) when meshing would exceed the memory limit; None
    for user surfaces (the foot mesher checks its own estimate once they are loaded)."""
    measures = primitive_measures(spec.geometry) or foot_measures(spec.geometry)
    if measures is None:
        return None
    est = estimate_mesh(*measures, spec.mesh)
    try:
        check_estimate(est, memory_limit_gb)
    except MeshError as exc:
        if source is None:
            raise
        raise MeshError(shorten(f"{source.where(('mesh',))}: mesh: {exc}")) from None
    return est
