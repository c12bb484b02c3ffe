"""Solve results on disk: ``results.<backend>.npz`` next to the model, and VTU files for ParaView."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from footdt.backends.base import PhaseResult, SolveResult
from footdt.errors import FootdtError
from footdt.fileio import atomic_write
from footdt.ir import AnalysisModel


def results_path(directory: str | Path, backend: str) -> Path:
    return Path(directory) / f"results.{backend}.npz"


def save_result(result: SolveResult, directory: str | Path) -> Path:
    arrays: dict[str, np.ndarray] = {"element_volume": result.element_volume}
    for name, ph in result.phases.items():
        arrays[f"{name}/von_mises"] = ph.von_mises
        for field in ("stress", "displacement", "reaction"):
            value = getattr(ph, field)
            if value is not None:
                arrays[f"{name}/{field}"] = np.asarray(value)
    meta = {
        k: getattr(result, k)
        for k in (
            "subject",
            "trial",
            "backend",
            "backend_version",
            "model_hash",
            "spec_hash",
            "mesh_hash",
            "wall_time",
        )
    }
    meta["phases"] = {n: {"residual": p.residual} for n, p in result.phases.items()}
    meta["info"] = result.info
    arrays["meta"] = np.frombuffer(json.dumps(meta, default=str).encode(), dtype=np.uint8)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]

    return atomic_write(results_path(directory, result.backend), write)


def load_result(directory: str | Path, backend: str) -> SolveResult:
    path = results_path(directory, backend)
    if not path.is_file():
        raise FootdtError(
            f"{path}: no results for backend '{backend}': run `footdt solve {directory} --backend {backend}`"
        )
    with np.load(path, allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    meta = json.loads(bytes(data.pop("meta")).decode())
    phases = {}
    for name, pmeta in meta.pop("phases").items():
        phases[name] = PhaseResult(
            name=name,
            von_mises=data[f"{name}/von_mises"],
            stress=data.get(f"{name}/stress"),
            displacement=data.get(f"{name}/displacement"),
            residual=pmeta["residual"],
            reaction=data.get(f"{name}/reaction"),
        )
    info = meta.pop("info")
    return SolveResult(element_volume=data["element_volume"], phases=phases, info=info, **meta)


def write_paraview(model: AnalysisModel, result: SolveResult, directory: str | Path) -> list[Path]:
    """A trial's results for ParaView: ``BACKEND.PHASE.vtu`` per phase and ``BACKEND.pvd``, the
    phases as the time steps of one collection (open the .pvd). Returns ``[pvd, *vtus]``.

    Per element: ``part_id`` (names in the field data ``part_names``), ``von_mises_MPa`` and
    ``stress_MPa`` (a symmetric tensor in VTK's order XX, YY, ZZ, XY, YZ, XZ, so ParaView's
    principal-stress filters read it right); per node ``displacement_mm``. Phases in the model's
    order (time step = phase index). Used by ``footdt solve``, ``footdt run --vtu`` and the demo.
    """
    from footdt.mesh.vtk import to_vtk_tensor, write_pvd, write_vtu

    d = Path(directory)
    order = [p.name for p in model.phases if p.name in result.phases]
    order += [n for n in result.phases if n not in order]
    vtus = []
    for name in order:
        ph = result.phases[name]
        cell_data: dict[str, list[np.ndarray]] = {"von_mises_MPa": [ph.von_mises]}
        if ph.stress is not None:
            cell_data["stress_MPa"] = [to_vtk_tensor(ph.stress)]
        point_data = {"displacement_mm": ph.displacement} if ph.displacement is not None else {}
        vtus.append(write_vtu(model, d / f"{result.backend}.{name}.vtu", cell_data, point_data))
    pvd = write_pvd(d / f"{result.backend}.pvd", list(zip(order, vtus, strict=True)))
    return [pvd, *vtus]


write_vtu = write_paraview  # the earlier name
