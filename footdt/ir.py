"""The solver-neutral analysis model (IR): numpy arrays plus small frozen records.

An ``AnalysisModel`` knows no backend. It is saved as ``model.json`` (everything but arrays, plus
the content hash) and ``arrays.npz`` (nodes, elements, sets, loads), so compiling and solving can
run as separate commands on separate machines.

Conventions: node and element indices are 0-based here (decks add 1); units mm, N, MPa.
A surface is an (K, 2) integer array of (element index, local face index 0..3) with the Abaqus/
CalculiX tetrahedron face numbering in ``TET_FACES`` (S1..S4; for a positive-volume tet the
right-hand normal of each face's node order points into the element).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

from footdt.domain import STATS
from footdt.errors import ModelDirError, ModelError
from footdt.fileio import atomic_write, canonical_json

SCHEMA_VERSION = 1

#: Corner nodes (0-based positions in the element) of faces S1..S4 of a C3D4/C3D10 tetrahedron.
TET_FACES: tuple[tuple[int, int, int], ...] = ((0, 1, 2), (0, 3, 1), (1, 3, 2), (2, 3, 0))
#: Mid-side nodes of the same faces for C3D10 (node order 1-4 corners, 5-10 edges 12,23,31,14,24,34).
TET10_FACE_MIDSIDES: tuple[tuple[int, int, int], ...] = ((4, 5, 6), (7, 8, 4), (5, 8, 9), (6, 9, 7))

#: Names footdt adds to decks start with this (connector sets, all nodes...); model names may not.
RESERVED_PREFIX = "FOOTDT_"

CellType = Literal["tetra", "tetra10"]
ConnectorLaw = Literal["linear", "tension_only", "slip_ring"]
DOF_NAMES = ("x", "y", "z")


@dataclass(frozen=True)
class Material:
    name: str
    E: float  # MPa
    nu: float


@dataclass(frozen=True)
class Connector:
    name: str
    node_a: int
    node_b: int
    law: ConnectorLaw
    stiffness: float  # N/mm


@dataclass(frozen=True)
class Tie:
    name: str
    slave: str  # surface name
    master: str  # surface name
    tolerance: float  # mm


@dataclass(frozen=True)
class FixedDofs:
    """Prescribed displacement ``value`` (mm) on ``dofs`` (0=x, 1=y, 2=z) of a node set."""

    name: str
    node_set: str
    dofs: tuple[int, ...]
    value: float = 0.0


@dataclass(frozen=True, eq=False)
class NodalLoad:
    """Forces (N) on the nodes of a node set: ``forces[i]`` acts on ``node_sets[node_set][i]``."""

    name: str
    node_set: str
    forces: np.ndarray  # (K, 3)


@dataclass(frozen=True)
class Pressure:
    surface: str
    value: float  # MPa, positive pushes into the body (against the outward normal)


@dataclass(frozen=True, eq=False)
class Phase:
    name: str
    pressures: tuple[Pressure, ...] = ()
    nodal_loads: tuple[NodalLoad, ...] = ()
    fixed: tuple[FixedDofs, ...] = ()


@dataclass(frozen=True)
class OutputRequest:
    parts: tuple[str, ...]
    statistics: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class AnalysisModel:
    subject: str
    trial: str
    nodes: np.ndarray  # (N, 3) float64, mm
    cell_type: CellType  # meshio cell-type name of every volume element
    elements: np.ndarray  # (M, 4) or (M, 10) int64
    parts: dict[str, np.ndarray]  # part -> element indices
    materials: dict[str, Material]
    sections: dict[str, str]  # part -> material name
    node_sets: dict[str, np.ndarray] = field(default_factory=dict)
    surfaces: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (K, 2) (element, face)
    connectors: tuple[Connector, ...] = ()
    ties: tuple[Tie, ...] = ()
    phases: tuple[Phase, ...] = ()
    outputs: OutputRequest = OutputRequest((), STATS)
    provenance: dict[str, Any] = field(default_factory=dict)
    units: dict[str, str] = field(
        default_factory=lambda: {"length": "mm", "force": "N", "stress": "MPa"}
    )
    schema_version: int = SCHEMA_VERSION

    # ----------------------------------------------------------------- queries
    @property
    def n_nodes(self) -> int:
        return int(self.nodes.shape[0])

    @property
    def n_elements(self) -> int:
        return int(self.elements.shape[0])

    def element_part(self) -> np.ndarray:
        """Part index (position in ``self.parts``) of every element."""
        out = np.full(self.n_elements, -1, dtype=np.int64)
        for i, idx in enumerate(self.parts.values()):
            out[idx] = i
        return out

    def phase(self, name: str) -> Phase:
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(name)

    def surface_faces(self, name: str) -> np.ndarray:
        """(K, 3) corner node indices of a surface's faces; their right-hand normal points into the body."""
        surf = self.surfaces[name]
        faces = np.asarray(TET_FACES)[surf[:, 1]]  # (K, 3) local positions
        return np.take_along_axis(self.elements[surf[:, 0]], faces, axis=1)

    def surface_nodes(self, name: str) -> np.ndarray:
        surf = self.surfaces[name]
        local = np.asarray(TET_FACES)[surf[:, 1]]
        if self.cell_type == "tetra10":
            local = np.hstack([local, np.asarray(TET10_FACE_MIDSIDES)[surf[:, 1]]])
        return np.unique(np.take_along_axis(self.elements[surf[:, 0]], local, axis=1))

    def boundary_nodes(self, phase: Phase) -> np.ndarray:
        """Nodes that carry a load, a prescribed displacement or a connector in ``phase``.

        Stress at these nodes is singular in the continuum limit; labels flag a max element that
        touches one.
        """
        sets: list[np.ndarray] = [self.surface_nodes(p.surface) for p in phase.pressures]
        sets += [self.node_sets[load.node_set] for load in phase.nodal_loads]
        sets += [self.node_sets[fx.node_set] for fx in phase.fixed]
        sets += [np.array([c.node_a, c.node_b]) for c in self.connectors]
        return np.unique(np.concatenate(sets)) if sets else np.zeros(0, dtype=np.int64)

    def features(self) -> dict[str, str]:
        """Model features a backend must support, each with where it is used (for error messages)."""
        feats: dict[str, str] = {
            f"element.{self.cell_type}": f"{self.n_elements} {self.cell_type} elements"
        }
        for c in self.connectors:
            feats.setdefault(f"connector.{c.law}", f"connector '{c.name}'")
        for t in self.ties:
            feats.setdefault("tie.nonconforming", f"tie '{t.name}'")
        for ph in self.phases:
            if ph.pressures:
                feats.setdefault("load.pressure", f"phase '{ph.name}'")
            if ph.nodal_loads:
                feats.setdefault("load.nodal_force", f"phase '{ph.name}'")
            if any(fx.value != 0.0 for fx in ph.fixed):
                feats.setdefault("bc.prescribed_displacement", f"phase '{ph.name}'")
        return feats

    # ----------------------------------------------------------------- hashing
    def mesh_hash(self) -> str:
        h = hashlib.sha256()
        for arr in (self.nodes, self.elements):
            _hash_array(h, arr)
        for name in sorted(self.parts):
            h.update(name.encode())
            _hash_array(h, self.parts[name])
        return h.hexdigest()[:16]

    def content_hash(self) -> str:
        meta, arrays = _split(self)
        h = hashlib.sha256(canonical_json(meta).encode())
        for key in sorted(arrays):
            h.update(key.encode())
            _hash_array(h, arrays[key])
        return h.hexdigest()[:16]


def _hash_array(h: Any, arr: np.ndarray) -> None:
    a = np.ascontiguousarray(arr)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())


# ------------------------------------------------------------------ save / load
def _split(model: AnalysisModel) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Separate a model into JSON-able metadata and named arrays."""
    arrays: dict[str, np.ndarray] = {
        "nodes": np.asarray(model.nodes, dtype=np.float64),
        "elements": np.asarray(model.elements, dtype=np.int64),
    }
    for name, idx in model.parts.items():
        arrays[f"part/{name}"] = np.asarray(idx, dtype=np.int64)
    for name, idx in model.node_sets.items():
        arrays[f"node_set/{name}"] = np.asarray(idx, dtype=np.int64)
    for name, surf in model.surfaces.items():
        arrays[f"surface/{name}"] = np.asarray(surf, dtype=np.int64).reshape(-1, 2)
    phases = []
    for i, ph in enumerate(model.phases):
        loads = []
        for j, load in enumerate(ph.nodal_loads):
            key = f"phase/{i}/load/{j}"
            arrays[key] = np.asarray(load.forces, dtype=np.float64).reshape(-1, 3)
            loads.append({"name": load.name, "node_set": load.node_set, "forces": key})
        phases.append(
            {
                "name": ph.name,
                "pressures": [{"surface": p.surface, "value": p.value} for p in ph.pressures],
                "nodal_loads": loads,
                "fixed": [
                    {"name": f.name, "node_set": f.node_set, "dofs": list(f.dofs), "value": f.value}
                    for f in ph.fixed
                ],
            }
        )
    meta = {
        "schema_version": model.schema_version,
        "subject": model.subject,
        "trial": model.trial,
        "units": model.units,
        "cell_type": model.cell_type,
        "parts": list(model.parts),
        "node_sets": list(model.node_sets),
        "surfaces": list(model.surfaces),
        "materials": {k: {"E": m.E, "nu": m.nu} for k, m in model.materials.items()},
        "sections": model.sections,
        "connectors": [
            {
                "name": c.name,
                "node_a": c.node_a,
                "node_b": c.node_b,
                "law": c.law,
                "stiffness": c.stiffness,
            }
            for c in model.connectors
        ],
        "ties": [
            {"name": t.name, "slave": t.slave, "master": t.master, "tolerance": t.tolerance}
            for t in model.ties
        ],
        "phases": phases,
        "outputs": {
            "parts": list(model.outputs.parts),
            "statistics": list(model.outputs.statistics),
        },
        "provenance": model.provenance,
    }
    return meta, arrays


def save_model(model: AnalysisModel, directory: str | Path) -> Path:
    """Write ``model.json`` + ``arrays.npz`` into ``directory`` (atomically, file by file)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    meta, arrays = _split(model)
    meta["content_hash"] = model.content_hash()

    def write_npz(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]

    atomic_write(d / "arrays.npz", write_npz)
    atomic_write(
        d / "model.json", lambda tmp: tmp.write_text(json.dumps(meta, indent=1, sort_keys=True))
    )
    return d


def is_model_dir(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / "model.json").exists()


def load_model(directory: str | Path) -> AnalysisModel:
    """Load a model directory; a missing, corrupted or tampered directory is a ``ModelDirError``."""
    d = Path(directory)
    hint = f"recompile it with `footdt compile SPEC --out {d}`"
    for name in ("model.json", "arrays.npz"):
        if not (d / name).is_file():
            raise ModelDirError(f"{d}: not a compiled model directory ({name} is missing); {hint}")
    try:
        meta = json.loads((d / "model.json").read_text())
        with np.load(d / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:  # corrupted JSON or zip
        raise ModelDirError(
            f"{d}: cannot read the model ({type(exc).__name__}: {exc}); {hint}"
        ) from exc
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise ModelDirError(
            f"{d}: model schema version {meta.get('schema_version')} is not {SCHEMA_VERSION}; {hint}"
        )
    try:
        model = _from_parts(meta, arrays)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelDirError(
            f"{d}: model.json and arrays.npz do not fit together ({exc}); {hint}"
        ) from exc
    stored = meta.get("content_hash")
    if stored != model.content_hash():
        raise ModelDirError(f"{d}: content hash mismatch (files changed after compile); {hint}")
    try:
        return validate(model)
    except ModelError as exc:
        raise ModelDirError(f"{d}: not a valid model: {exc}; {hint}") from exc


def _from_parts(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> AnalysisModel:
    phases = tuple(
        Phase(
            name=ph["name"],
            pressures=tuple(Pressure(p["surface"], float(p["value"])) for p in ph["pressures"]),
            nodal_loads=tuple(
                NodalLoad(ld["name"], ld["node_set"], arrays[ld["forces"]])
                for ld in ph["nodal_loads"]
            ),
            fixed=tuple(
                FixedDofs(f["name"], f["node_set"], tuple(f["dofs"]), float(f["value"]))
                for f in ph["fixed"]
            ),
        )
        for ph in meta["phases"]
    )
    return AnalysisModel(
        subject=meta["subject"],
        trial=meta["trial"],
        nodes=arrays["nodes"],
        cell_type=meta["cell_type"],
        elements=arrays["elements"],
        parts={k: arrays[f"part/{k}"] for k in meta["parts"]},
        materials={
            k: Material(k, float(v["E"]), float(v["nu"])) for k, v in meta["materials"].items()
        },
        sections=dict(meta["sections"]),
        node_sets={k: arrays[f"node_set/{k}"] for k in meta["node_sets"]},
        surfaces={k: arrays[f"surface/{k}"] for k in meta["surfaces"]},
        connectors=tuple(Connector(**c) for c in meta["connectors"]),
        ties=tuple(Tie(**t) for t in meta["ties"]),
        phases=phases,
        outputs=OutputRequest(
            tuple(meta["outputs"]["parts"]), tuple(meta["outputs"]["statistics"])
        ),
        provenance=dict(meta["provenance"]),
        units=dict(meta["units"]),
        schema_version=int(meta["schema_version"]),
    )


def replace(model: AnalysisModel, **changes: Any) -> AnalysisModel:
    """A copy of ``model`` with some fields changed (the IR is frozen)."""
    kwargs = {f.name: getattr(model, f.name) for f in fields(model)}
    kwargs.update(changes)
    return AnalysisModel(**kwargs)


def as_int_array(values: Iterable[int]) -> np.ndarray:
    return np.asarray(list(values), dtype=np.int64)


# ------------------------------------------------------------------ invariants
def validate(model: AnalysisModel) -> AnalysisModel:
    """Check every invariant of the IR (``footdt.ir_validate`` lists them); raise a one-line
    ``ModelError`` on the first broken one, else return ``model``. Runs at the end of compile,
    on load and before every solve, so that no backend needs checks of its own."""
    from footdt.ir_validate import validate_model

    return validate_model(model)
