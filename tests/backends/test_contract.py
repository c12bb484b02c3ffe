"""One contract, every available backend: same model in, comparable SolveResult out."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.backends import REGISTRY, get_backend
from footdt.errors import UnsupportedFeature
from footdt.ir import Connector, replace
from footdt.labels import LabelStore, store_result
from footdt.labels.compare import compare
from footdt.mechanics import tet_volumes
from tests.factories import bar_model, inclusion_model

AVAILABLE = [name for name in REGISTRY if get_backend(name).availability()]


@pytest.fixture(params=AVAILABLE)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_declares_itself(backend: str) -> None:
    be = get_backend(backend)
    assert be.name == backend and be.version()
    assert {"element.tetra", "load.pressure"} <= be.capabilities


def test_bar_uniform_stress(backend: str, tmp_path) -> None:
    model = bar_model(pressure=2.0)
    result = get_backend(backend).solve(model, tmp_path)
    ph = result.phases["load"]
    assert ph.von_mises.shape == (model.n_elements,)
    assert np.allclose(ph.von_mises, 2.0, rtol=1e-6)
    assert ph.stress is not None and np.allclose(ph.stress[:, 0], -2.0, rtol=1e-6)
    # ccx prints EVOL with 7 significant digits
    assert np.allclose(result.element_volume, tet_volumes(model.nodes, model.elements), rtol=1e-6)
    assert result.model_hash == model.content_hash()


def test_phases_are_independent(backend: str, tmp_path) -> None:
    """Solving both phases together equals solving each alone: no load carries over."""
    model = inclusion_model(divisions=4)
    both = get_backend(backend).solve(model, tmp_path / "both")
    for i, name in enumerate(("press", "shear")):
        alone = get_backend(backend).solve(
            replace(model, phases=(model.phases[i],)), tmp_path / name
        )
        assert np.allclose(
            both.phases[name].von_mises, alone.phases[name].von_mises, rtol=1e-7, atol=1e-12
        )


def test_refuses_what_it_cannot_express(backend: str) -> None:
    model = inclusion_model(divisions=2, connector_law="linear")
    c = model.connectors[0]
    model = replace(
        model, connectors=(Connector(c.name, c.node_a, c.node_b, "slip_ring", c.stiffness),)
    )
    be = get_backend(backend)
    if "connector.slip_ring" in be.capabilities:
        assert be.unsupported(model) == []
    else:
        with pytest.raises(UnsupportedFeature, match="connector.slip_ring.*abaqus"):
            be.check(model)


@pytest.mark.skipif(
    "calculix" not in AVAILABLE or "sfepy" not in AVAILABLE, reason="needs sfepy and calculix"
)
@pytest.mark.parametrize("law", [None, "linear", "tension_only"])
def test_sfepy_and_calculix_agree_on_two_materials(law: str | None, tmp_path) -> None:
    """Issue check: <= 0.5 % on per-part mean and <= 2 % on p99, same mesh.

    Both backends solve the same linear system, with or without connectors: SfePy adds k n n^T
    to K, CalculiX writes the same small-displacement spring (an *EQUATION for the elongation
    n . (u_b - u_a) and a SPRING2), and both resolve tension-only connectors by an active set.
    So labels agree to solver precision (ccx prints 7 digits), not just to the tolerances.
    """
    model = inclusion_model(divisions=8, connector_law=law)
    store = str(tmp_path / "labels.db")
    for name in ("sfepy", "calculix"):
        store_result(store, get_backend(name).solve(model, tmp_path / name), model)
    with LabelStore(store) as s:
        cmp = compare(s, "sfepy", "calculix", rtol={"mean": 0.005, "p99": 0.02, "default": 0.02})
    assert cmp.ok and len(cmp.rows) == 2 * 2 * 4
    assert cmp.max_rel_diff() < 1e-5


def test_every_solve_validates_the_model(backend: str, tmp_path) -> None:
    """ir.validate runs before any backend does: an impossible material (nu = 0.5, which a
    displacement formulation cannot take) is refused in one line, by every backend alike."""
    from footdt.errors import ModelError
    from footdt.ir import Material

    model = bar_model()
    bad = replace(model, materials={k: Material(k, m.E, 0.5) for k, m in model.materials.items()})
    with pytest.raises(ModelError, match=r"nu in \(-1, 0.5\)"):
        get_backend(backend).solve(bad, tmp_path)
    assert not any(tmp_path.iterdir())  # refused before anything was written
