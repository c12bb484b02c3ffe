"""The IR: save/load round trip, content hash, corrupted directories."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from footdt.errors import ModelDirError, ModelError
from footdt.ir import Connector, Material, Phase, Tie, load_model, save_model, validate
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


def _broken(change):  # type: ignore[no-untyped-def]
    from footdt.ir import replace

    return change(replace, inclusion_model(divisions=3, connector_law="linear"))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda r, m: r(m, materials={**m.materials, "soft": Material("soft", 1.0, 0.5)}),
         "nu in \\(-1, 0.5\\)"),
        (lambda r, m: r(m, nodes=np.vstack([m.nodes, [[9.0, 9.0, 9.0]]])), "belong to no element"),
        (lambda r, m: r(m, elements=m.elements[:, [1, 0, 2, 3]]), "non-positive volume"),
        (lambda r, m: r(m, sections={**m.sections, "bone": "soft"}), "names part 'bone'"),
        (lambda r, m: r(m, ties=(Tie("t", "zmin", "xmin", -1.0),)), "tolerance >= 0"),
        (lambda r, m: r(m, phases=(m.phases[0], m.phases[0])), "phase 'press' and phase 'press'"),
        (lambda r, m: r(m, phases=()), "no phase"),
        (lambda r, m: r(m, connectors=(Connector("c", 0, 1, "glue", 1.0),)), "unknown law 'glue'"),
        (lambda r, m: r(m, connectors=(Connector("c", 0, 0, "linear", 1.0),)), "coincident"),
        (lambda r, m: r(m, node_sets={**m.node_sets, "zmax": np.array([10**6])}),
         "node set 'zmax' refers to nodes outside"),
        (lambda r, m: r(m, phases=(Phase("p"),)), "can move as a rigid body"),
    ],
)  # fmt: skip
def test_validate_names_the_broken_invariant(change, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        validate(_broken(change))


def test_load_validates(tmp_path) -> None:
    """A model directory written by other means than compile is checked on load."""
    bad = _broken(lambda r, m: r(m, materials={**m.materials, "soft": Material("soft", -1.0, 0.3)}))
    save_model(bad, tmp_path / "m")  # save does not check: load must
    with pytest.raises(ModelDirError, match="not a valid model: material 'soft'"):
        load_model(tmp_path / "m")
    assert validate(inclusion_model(divisions=3)).n_elements > 0
