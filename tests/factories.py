"""Small hand-built analysis models for tests (structured meshes, no gmsh, no spec files)."""

from __future__ import annotations

import numpy as np

from footdt.ir import (
    AnalysisModel,
    Connector,
    FixedDofs,
    Material,
    NodalLoad,
    OutputRequest,
    Phase,
    Pressure,
)
from footdt.mesh.structured import box_faces, box_tets


def _box_sets(
    nodes: np.ndarray, elements: np.ndarray, size: tuple[float, float, float]
) -> tuple[dict, dict]:
    lo, hi = np.zeros(3), np.asarray(size, dtype=float)
    surfaces = box_faces(nodes, elements, lo, hi)
    node_sets = {}
    for name, faces in surfaces.items():
        from footdt.ir import TET_FACES

        local = np.asarray(TET_FACES)[faces[:, 1]]
        node_sets[name] = np.unique(np.take_along_axis(elements[faces[:, 0]], local, axis=1))
    return surfaces, node_sets


def bar_model(
    size: tuple[float, float, float] = (20.0, 4.0, 4.0),
    divisions: tuple[int, int, int] = (5, 2, 2),
    E: float = 1000.0,
    nu: float = 0.3,
    pressure: float = 2.0,
) -> AnalysisModel:
    """A bar pressed on its +x end, with roller supports on xmin/ymin/zmin: uniform sigma_xx = -pressure."""
    nodes, elements = box_tets(size, divisions)
    surfaces, node_sets = _box_sets(nodes, elements, size)
    fixed = (
        FixedDofs("xmin_roller", "xmin", (0,)),
        FixedDofs("ymin_roller", "ymin", (1,)),
        FixedDofs("zmin_roller", "zmin", (2,)),
    )
    return AnalysisModel(
        subject="bar",
        trial="1",
        nodes=nodes,
        cell_type="tetra",
        elements=elements,
        parts={"body": np.arange(len(elements))},
        materials={"mat": Material("mat", E, nu)},
        sections={"body": "mat"},
        node_sets=node_sets,
        surfaces=surfaces,
        phases=(Phase("load", pressures=(Pressure("xmax", pressure),), fixed=fixed),),
        outputs=OutputRequest(("body",), ("mean", "p95", "p99", "max")),
        provenance={"spec_hash": "test", "mesh_hash": "test"},
    )


def inclusion_model(
    divisions: int = 8,
    E_matrix: float = 10.0,
    E_inclusion: float = 1000.0,
    pressure: float = 0.1,
    connector_law: str | None = None,
) -> AnalysisModel:
    """A unit-ish cube (10 mm) with a stiff central inclusion, pressure below, top fixed.

    Two phases: ``press`` (pressure on zmin) and ``shear`` (a nodal force on the xmax face).
    With ``connector_law`` a spring joins two nodes of the zmin face.
    """
    size = (10.0, 10.0, 10.0)
    nodes, elements = box_tets(size, (divisions,) * 3)
    surfaces, node_sets = _box_sets(nodes, elements, size)
    centroid = nodes[elements].mean(axis=1)
    inside = np.all(np.abs(centroid - 5.0) < 2.5, axis=1)
    fixed = (FixedDofs("top", "zmax", (0, 1, 2)),)
    xmax = node_sets["xmax"]
    forces = np.tile([0.0, 0.0, -5.0 / len(xmax)], (len(xmax), 1))
    connectors: tuple[Connector, ...] = ()
    if connector_law:
        zmin = nodes[node_sets["zmin"]]
        a = int(node_sets["zmin"][np.argmin(np.linalg.norm(zmin - [2.5, 5.0, 0.0], axis=1))])
        b = int(node_sets["zmin"][np.argmin(np.linalg.norm(zmin - [7.5, 5.0, 0.0], axis=1))])
        connectors = (Connector("band", a, b, connector_law, 50.0),)  # type: ignore[arg-type]
    return AnalysisModel(
        subject="block",
        trial="1",
        nodes=nodes,
        cell_type="tetra",
        elements=elements,
        parts={"matrix": np.flatnonzero(~inside), "inclusion": np.flatnonzero(inside)},
        materials={
            "soft": Material("soft", E_matrix, 0.45),
            "stiff": Material("stiff", E_inclusion, 0.3),
        },
        sections={"matrix": "soft", "inclusion": "stiff"},
        node_sets=node_sets,
        surfaces=surfaces,
        connectors=connectors,
        phases=(
            Phase("press", pressures=(Pressure("zmin", pressure),), fixed=fixed),
            Phase("shear", nodal_loads=(NodalLoad("side", "xmax", forces),), fixed=fixed),
        ),
        outputs=OutputRequest(("matrix", "inclusion"), ("mean", "p95", "p99", "max")),
        provenance={"spec_hash": "test", "mesh_hash": "test"},
    )
