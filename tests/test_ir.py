"""The IR: save/load round trip, content hash, corrupted directories."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from footdt.errors import ModelDirError
from footdt.ir import load_model, save_model
from tests.factories import inclusion_model


def test_round_trip_preserves_everything(tmp_path) -> None:
    model = inclusion_model(divisions=3, connector_law="tension_only")
    save_model(model, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert back.content_hash() == model.content_hash()
    assert np.array_equal(back.elements, model.elements)
    assert back.connectors == model.connectors
    assert np.array_equal(
        back.phases[1].nodal_loads[0].forces, model.phases[1].nodal_loads[0].forces
    )
    assert back.features() == model.features()


def test_hash_changes_with_content() -> None:
    a = inclusion_model(divisions=3)
    b = inclusion_model(divisions=3, pressure=0.2)
    assert a.content_hash() != b.content_hash()
    assert a.mesh_hash() == b.mesh_hash()


def test_missing_file(tmp_path) -> None:
    save_model(inclusion_model(divisions=2), tmp_path)
    (tmp_path / "arrays.npz").unlink()
    with pytest.raises(ModelDirError, match="arrays.npz is missing"):
        load_model(tmp_path)


def test_tampered_json_detected(tmp_path) -> None:
    save_model(inclusion_model(divisions=2), tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["materials"]["soft"]["E"] = 99.0
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelDirError, match="content hash mismatch"):
        load_model(tmp_path)


def test_truncated_npz_detected(tmp_path) -> None:
    save_model(inclusion_model(divisions=2), tmp_path)
    data = (tmp_path / "arrays.npz").read_bytes()
    (tmp_path / "arrays.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelDirError, match="cannot read the model"):
        load_model(tmp_path)


def test_garbage_json_detected(tmp_path) -> None:
    save_model(inclusion_model(divisions=2), tmp_path)
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(ModelDirError, match="cannot read the model"):
        load_model(tmp_path)
    assert zipfile.is_zipfile(tmp_path / "arrays.npz")
