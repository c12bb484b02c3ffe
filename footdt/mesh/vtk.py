"""A model's mesh as VTU for ParaView: part ids per element, optional results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from footdt.fileio import atomic_write
from footdt.ir import AnalysisModel


def to_meshio(
    model: AnalysisModel,
    cell_data: dict[str, list[np.ndarray]] | None = None,
    point_data: dict[str, np.ndarray] | None = None,
) -> Any:
    """meshio.Mesh of the model with ``part_id`` per element (part names in field data)."""
    import meshio

    cells = {"part_id": [model.element_part().astype(np.int32)], **(cell_data or {})}
    return meshio.Mesh(
        model.nodes,
        [(model.cell_type, model.elements)],
        point_data=point_data or {},
        cell_data=cells,
        field_data={p: np.array([i, 3]) for i, p in enumerate(model.parts)},
    )


def write_mesh_vtu(model: AnalysisModel, path: str | Path) -> Path:
    import meshio

    mesh = to_meshio(model)
    return atomic_write(path, lambda tmp: meshio.write(tmp, mesh, file_format="vtu"))
