"""Solve results: ``SolveResult`` (immutable, built by ``make_result`` only), its save and load
(``results.<backend>.npz`` next to the model), and VTU files for ParaView."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from footdt.errors import FootdtError
from footdt.fileio import atomic_write

if TYPE_CHECKING:
    from footdt.ir import AnalysisModel


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    """``a`` as a read-only array (a view when it was writable: the caller's array stays so)."""
    if a is None:
        return None
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class PhaseResult:
    """Per-element results of one phase, in the IR's element order (read-only arrays)."""

    name: str
    von_mises: np.ndarray  # (M,) MPa
    stress: np.ndarray | None = None  # (M, 6) MPa, mechanics.STRESS_COMPONENTS order
    displacement: np.ndarray | None = None  # (N, 3) mm
    residual: float | None = None  # relative residual ||K u - f|| / ||f|| of the final solve
    reaction: np.ndarray | None = None  # (3,) N, sum of reaction forces at prescribed DOFs

    def __post_init__(self) -> None:
        for name in ("von_mises", "stress", "displacement", "reaction"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))


@dataclass(frozen=True, eq=False)
class SolveResult:
    """What a backend's ``extract`` returns (and ``footdt labels import`` reads): frozen, with
    read-only arrays. Build one with ``make_result`` (from a model) or ``load_result`` (from disk);
    a changed copy with ``dataclasses.replace``."""

    subject: str
    trial: str
    backend: str
    backend_version: str
    model_hash: str
    spec_hash: str
    mesh_hash: str
    element_volume: np.ndarray  # (M,) mm^3
    phases: dict[str, PhaseResult]
    wall_time: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "element_volume", _frozen(self.element_volume))
        object.__setattr__(self, "phases", dict(self.phases))
        object.__setattr__(self, "info", dict(self.info))

    @property
    def max_residual(self) -> float | None:
        res = [p.residual for p in self.phases.values() if p.residual is not None]
        return max(res) if res else None

    def timed(self, wall_time: float) -> SolveResult:
        """This result with ``wall_time`` (s) set."""
        return replace(self, wall_time=wall_time)


def make_result(
    model: AnalysisModel,
    backend: str,
    backend_version: str,
    element_volume: np.ndarray,
    phases: dict[str, PhaseResult],
    info: dict[str, Any] | None = None,
) -> SolveResult:
    """The one way a result is made from a model: the model's identity (subject, trial, hashes)
    and provenance (a personalised subject's shape) travel with every backend's result, the
    imported Abaqus ones too."""
    return SolveResult(
        subject=model.subject,
        trial=model.trial,
        backend=backend,
        backend_version=backend_version,
        model_hash=model.content_hash(),
        spec_hash=str(model.provenance.get("spec_hash", "unknown")),
        mesh_hash=model.mesh_hash(),
        element_volume=element_volume,
        phases=phases,
        info=_with_personalisation(info or {}, model),
    )


def _with_personalisation(info: dict[str, Any], model: AnalysisModel) -> dict[str, Any]:
    """A personalised model's subject shape (SSM, PC weights, fit errors) travels with its result
    into the solve record of the label store."""
    shape = model.provenance.get("personalisation")
    if not shape:
        return info
    keep = ("source", "ssm", "pc_weights", "requested_mm", "measurement_error_mm",
            "skin_error_p95_mm", "remeshed")  # fmt: skip
    return {**info, "personalisation": {k: shape[k] for k in keep if k in shape}}


def results_path(directory: str | Path, backend: str) -> Path:
    return Path(directory) / f"results.{backend}.npz"


def save_result(result: SolveResult, directory: str | Path) -> Path:
    arrays: dict[str, np.ndarray] = {"element_volume": result.element_volume}
    for name, ph in result.phases.items():
        arrays[f"{name}/von_mises"] = ph.von_mises
        for key in ("stress", "displacement", "reaction"):
            value = getattr(ph, key)
            if value is not None:
                arrays[f"{name}/{key}"] = np.asarray(value)
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
