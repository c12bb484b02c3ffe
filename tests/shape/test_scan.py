"""Scans: the shape model recovered from a non-corresponded scan, and every refusal."""

from __future__ import annotations

from pathlib import Path

import meshio
import numpy as np
import pytest

from footdt.shape.scan import fit_scan, read_scan
from footdt.shape.ssm import SSM, ShapeError
from tests.shape.conftest import write_scan


@pytest.mark.parametrize("seed", [1, 2])
def test_round_trip_recovers_weights_and_surface(builtin: SSM, tmp_path: Path, seed: int) -> None:
    """Issue 4: weights within 0.1 SD, surface within 0.5 mm, from a scan that shares no vertex
    order or pose with the model."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 1.0, builtin.n_modes)
    scan = read_scan(write_scan(tmp_path / "s.stl", builtin, weights, seed=seed))
    fit = fit_scan(builtin, scan)
    assert np.abs(fit.weights - weights).max() < 0.1
    assert fit.model_to_scan.p95 < 0.5
    assert fit.scan_to_model.p95 < 0.5
    assert not fit.warnings


def test_a_scan_in_metres_declared_as_mm_is_refused(builtin: SSM, tmp_path: Path) -> None:
    path = write_scan(tmp_path / "m.ply", builtin, np.zeros(builtin.n_modes), scale=0.001)
    with pytest.raises(
        ShapeError, match=r"longest side 0\.2\d+ mm .* it looks like m: set `scale: 1000`"
    ):
        read_scan(path)
    assert np.ptp(read_scan(path, scale=1000.0).points, axis=0).max() > 200.0


def test_a_left_foot_is_recognised(builtin: SSM, tmp_path: Path) -> None:
    weights = np.zeros(builtin.n_modes)
    path = write_scan(tmp_path / "left.obj", builtin, weights, seed=3, mirror=True)
    with pytest.raises(ShapeError, match="looks like a left foot; set `side: left`"):
        fit_scan(builtin, read_scan(path))
    fit = fit_scan(builtin, read_scan(path, side="left"))
    assert fit.model_to_scan.p95 < 0.5


def _read(path: Path) -> meshio.Mesh:
    with np.errstate(over="ignore"):  # meshio sniffs an ASCII STL as binary first
        return meshio.read(path)


def _cut(path: Path, out: Path, faces: np.ndarray) -> Path:
    m = _read(path)
    tris = np.delete(m.cells_dict["triangle"], faces, axis=0)
    meshio.write(out, meshio.Mesh(m.points, [("triangle", tris)]))
    return out


def test_holes_and_non_manifold_edges_are_refused(builtin: SSM, tmp_path: Path) -> None:
    path = write_scan(tmp_path / "s.stl", builtin, np.zeros(builtin.n_modes))
    holed = _cut(path, tmp_path / "holed.stl", np.array([100, 2000]))
    with pytest.raises(
        ShapeError, match=r"has 2 hole\(s\) besides its opening at the leg .*Close Holes"
    ):
        read_scan(holed)
    m = _read(path)
    tris = m.cells_dict["triangle"]
    extra = np.array([[tris[0, 0], tris[0, 1], tris[5000, 2]]])
    meshio.write(
        tmp_path / "bad.stl",
        meshio.Mesh(m.points, [("triangle", np.vstack([tris, extra, extra[:, [1, 0, 2]]]))]),
    )
    with pytest.raises(ShapeError, match="shared by more than two triangles"):
        read_scan(tmp_path / "bad.stl")
