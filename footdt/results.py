"""Solve results on disk: ``results.<backend>.npz`` next to the model, and VTU files for ParaView."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def write_vtu(model: AnalysisModel, result: SolveResult, directory: str | Path) -> list[Path]:
    """One VTU per phase: von Mises, stress tensor and part id per element, displacement per node."""
    import meshio

    from footdt.mesh.vtk import to_meshio

    paths = []
    for name, ph in result.phases.items():
        cell_data: dict[str, list[np.ndarray]] = {"von_mises_MPa": [ph.von_mises]}
        if ph.stress is not None:
            cell_data["stress_MPa"] = [ph.stress]
        point_data = {"displacement_mm": ph.displacement} if ph.displacement is not None else {}
        mesh = to_meshio(model, cell_data, point_data)
        path = Path(directory) / f"{result.backend}.{name}.vtu"
        _write_vtu(meshio, mesh, path)
        paths.append(path)
    return paths


def _write_vtu(meshio: Any, mesh: Any, path: Path) -> None:
    atomic_write(path, lambda tmp: meshio.write(tmp, mesh, file_format="vtu"))
