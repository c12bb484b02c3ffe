"""A model's mesh (and results) as VTK XML files for ParaView.

- ``.vtu`` per mesh or per phase: ``part_id`` per element, with the part names in the file's field
  data (string array ``part_names``: part_id i is ``part_names[i]``); results as cell and point
  data. Symmetric tensors are written in VTK's component order XX, YY, ZZ, XY, YZ, XZ (footdt's
  own order, ``mechanics.STRESS_COMPONENTS``, is xx, yy, zz, xy, xz, yz): ParaView's tensor
  filters (principal values, von Mises) read them as the tensors they are.
- ``.pvd`` per trial: the phases' ``.vtu`` files as the steps of one collection (time = phase index,
  in the model's phase order; each data set also carries the phase's name), so ParaView's time
  control steps through the phases.

meshio writes the VTU; it has no string arrays, so the part names are added to its XML here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from footdt.fileio import atomic_write
from footdt.ir import AnalysisModel
from footdt.mechanics import STRESS_COMPONENTS

#: VTK's order of the six components of a symmetric tensor.
VTK_TENSOR_ORDER = ("xx", "yy", "zz", "xy", "yz", "xz")
_TO_VTK = [STRESS_COMPONENTS.index(c) for c in VTK_TENSOR_ORDER]
PART_NAMES = "part_names"


def to_vtk_tensor(values: np.ndarray) -> np.ndarray:
    """(M, 6) symmetric tensors in footdt's component order -> VTK's (XX YY ZZ XY YZ XZ)."""
    return np.ascontiguousarray(np.asarray(values)[:, _TO_VTK])


def to_meshio(
    model: AnalysisModel,
    cell_data: dict[str, list[np.ndarray]] | None = None,
    point_data: dict[str, np.ndarray] | None = None,
) -> Any:
    """meshio.Mesh of the model with ``part_id`` per element (``write_vtu`` adds the names)."""
    import meshio

    cells = {"part_id": [model.element_part().astype(np.int32)], **(cell_data or {})}
    return meshio.Mesh(
        model.nodes,
        [(model.cell_type, model.elements)],
        point_data=point_data or {},
        cell_data=cells,
    )


def _string_array(name: str, values: Sequence[str]) -> str:
    """A VTK XML ``String`` data array in ASCII: each string's bytes as integers, each ended by 0."""
    codes = " ".join(" ".join([*map(str, v.encode()), "0"]) for v in values)
    return (
        f'<DataArray type="String" Name={quoteattr(name)} NumberOfTuples="{len(values)}" '
        f'format="ascii">{codes}</DataArray>'
    )


def write_vtu(
    model: AnalysisModel,
    path: str | Path,
    cell_data: dict[str, list[np.ndarray]] | None = None,
    point_data: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write the model (plus optional data) as a VTU with the part names in its field data."""
    import meshio

    mesh = to_meshio(model, cell_data, point_data)
    field = f"<FieldData>{_string_array(PART_NAMES, list(model.parts))}</FieldData>"

    def write(tmp: Path) -> None:
        meshio.write(tmp, mesh, file_format="vtu")
        text = tmp.read_bytes()
        head = re.search(rb"<UnstructuredGrid[^>]*>", text)
        if head is None:  # pragma: no cover - meshio always writes it
            raise RuntimeError(f"{tmp}: meshio wrote no <UnstructuredGrid> element")
        tmp.write_bytes(text[: head.end()] + field.encode() + text[head.end() :])

    return atomic_write(path, write)


def write_mesh_vtu(model: AnalysisModel, path: str | Path) -> Path:
    return write_vtu(model, path)


def write_pvd(path: str | Path, datasets: Sequence[tuple[str, Path]]) -> Path:
    """A ParaView collection of ``(name, file)`` data sets, one time step each (0, 1, ...).
    Files are referred to relative to the .pvd's folder."""
    out = Path(path)
    rows = [
        f'    <DataSet timestep="{i}" group="" part="0" name={quoteattr(name)} '
        f"file={quoteattr(Path(f).resolve().relative_to(out.parent.resolve()).as_posix())}/>"
        for i, (name, f) in enumerate(datasets)
    ]
    order = ", ".join(f"{i}: {name}" for i, (name, _) in enumerate(datasets)).replace("--", "- -")
    text = "\n".join(
        [
            '<?xml version="1.0"?>',
            f"<!-- footdt: one data set per phase; time step = phase ({order}) -->",
            '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">',
            "  <Collection>",
            *rows,
            "  </Collection>",
            "</VTKFile>",
            "",
        ]
    )
    return atomic_write(out, lambda tmp: tmp.write_text(text))
