"""Volume-mesh files: round trip, refusal of foreign files, the template cache."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.errors import MeshError
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.mesh.store import cache_dir, load_mesh, save_mesh


def _mesh() -> VolumeMesh:
    nodes = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], float)
    elements = np.array([[0, 1, 2, 3], [1, 2, 3, 4]])
    return VolumeMesh(
        nodes=nodes,
        elements=elements,
        cell_type="tetra",
        parts={"a": np.array([0]), "b": np.array([1])},
        surfaces={"bottom": np.array([[0, 0]])},
        landmarks={"tip": np.array([1.0, 1.0, 1.0])},
        info={"size": 3.0},
    )


def test_round_trip(tmp_path):
    mesh = _mesh()
    back = load_mesh(save_mesh(mesh, tmp_path / "m.npz"))
    np.testing.assert_array_equal(back.nodes, mesh.nodes)
    np.testing.assert_array_equal(back.elements, mesh.elements)
    assert back.cell_type == "tetra" and back.info == {"size": 3.0}
    assert set(back.parts) == {"a", "b"} and back.parts["b"].tolist() == [1]
    assert back.surfaces["bottom"].tolist() == [[0, 0]]
    np.testing.assert_array_equal(back.landmarks["tip"], [1.0, 1.0, 1.0])


def test_foreign_file_is_refused(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, nodes=np.zeros((1, 3)))
    with pytest.raises(MeshError, match="not a readable footdt mesh"):
        load_mesh(bad)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(MeshError, match="junk.npz"):
        load_mesh(junk)


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FOOTDT_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()
