"""VTU and PVD files as ParaView reads them: read back through VTK itself (the `vtk` package, a
dev dependency), not through meshio, which wrote them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from footdt.ir import AnalysisModel
from footdt.mechanics import STRESS_COMPONENTS, von_mises
from footdt.results import PhaseResult, SolveResult, write_paraview
from tests.factories import inclusion_model

vtk = pytest.importorskip("vtk")
from vtk.util.numpy_support import vtk_to_numpy  # noqa: E402


def _result(model: AnalysisModel, seed: int = 0) -> SolveResult:
    """Distinct, fully general stress tensors per element and phase (every shear nonzero)."""
    rng = np.random.default_rng(seed)
    phases = {}
    for ph in model.phases:
        s = rng.normal(scale=10.0, size=(model.n_elements, 6))
        u = rng.normal(size=(model.n_nodes, 3))
        phases[ph.name] = PhaseResult(ph.name, von_mises(s), s, u)
    return SolveResult(model.subject, model.trial, "sfepy", "x", model.content_hash(), "s",
                       model.mesh_hash(), np.ones(model.n_elements), phases)  # fmt: skip


def _read(path: Path):  # type: ignore[no-untyped-def]
    reader = vtk.vtkXMLUnstructuredGridReader()
    reader.SetFileName(str(path))
    reader.Update()
    return reader.GetOutput()


def _principal(stress: np.ndarray) -> np.ndarray:
    """footdt's principal stresses, largest first, from its own component order."""
    i = {c: k for k, c in enumerate(STRESS_COMPONENTS)}
    t = np.zeros((len(stress), 3, 3))
    for a, b in ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)):
        name = "xyz"[a] + "xyz"[b]
        t[:, a, b] = t[:, b, a] = stress[:, i[name]]
    return np.linalg.eigvalsh(t)[:, ::-1]


def test_vtk_computes_footdt_principal_stresses(tmp_path: Path) -> None:
    """ParaView's principal-stress filter (vtkTensorPrincipalInvariants) on the VTU's stress
    tensor gives the principal stresses of footdt's tensor (the xx yy zz xy xz yz order written
    as is gave other values: VTK reads XX YY ZZ XY YZ XZ)."""
    model = inclusion_model(divisions=3)
    result = _result(model)
    _, *vtus = write_paraview(model, result, tmp_path)
    for phase, vtu in zip(model.phases, vtus, strict=True):
        grid = _read(vtu)
        f = vtk.vtkTensorPrincipalInvariants()
        f.SetInputData(grid)
        f.Update()
        cd = f.GetOutput().GetCellData()
        got = np.column_stack(
            [vtk_to_numpy(cd.GetArray(f"stress_MPa - Sigma {k}")) for k in (1, 2, 3)]
        )
        expected = _principal(result.phases[phase.name].stress)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
        # the check has teeth: read in footdt's own order, the tensors have other eigenvalues
        swapped = result.phases[phase.name].stress[:, [0, 1, 2, 3, 5, 4]]
        assert np.abs(_principal(swapped) - expected).max() > 1.0


def test_part_names_and_phases_are_in_the_files(tmp_path: Path) -> None:
    model = inclusion_model(divisions=3)
    pvd, *vtus = write_paraview(model, _result(model), tmp_path)
    grid = _read(vtus[0])
    names = grid.GetFieldData().GetAbstractArray("part_names")
    assert [names.GetValue(i) for i in range(names.GetNumberOfValues())] == list(model.parts)
    part_id = vtk_to_numpy(grid.GetCellData().GetArray("part_id"))
    for i, idx in enumerate(model.parts.values()):
        assert np.all(part_id[idx] == i)
    np.testing.assert_allclose(
        vtk_to_numpy(grid.GetPointData().GetArray("displacement_mm")).shape, (model.n_nodes, 3)
    )
    sets = ET.parse(pvd).getroot().findall("./Collection/DataSet")
    assert [(d.get("timestep"), d.get("name")) for d in sets] == [
        (str(i), p.name) for i, p in enumerate(model.phases)
    ]
    assert [tmp_path / d.get("file", "") for d in sets] == vtus
    assert pvd.name == "sfepy.pvd" and all(_read(v).GetNumberOfCells() for v in vtus)


def test_files_are_readable_by_the_group(tmp_path: Path) -> None:
    import os

    old = os.umask(0o022)
    try:
        pvd, *vtus = write_paraview(
            inclusion_model(divisions=2), _result(inclusion_model(divisions=2)), tmp_path
        )
    finally:
        os.umask(old)
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in (pvd, *vtus))
