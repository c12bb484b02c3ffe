"""One contract, every available backend: same model in, comparable SolveResult out."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from footdt.backends import REGISTRY, backend_class, backends_with, get_backend
from footdt.backends.base import Job, RunRecord
from footdt.errors import FootdtError, SpecError, UnsupportedFeature
from footdt.ir import Connector, replace
from footdt.labels import LabelStore, store_result
from footdt.labels.compare import compare
from footdt.mechanics import tet_volumes
from footdt.results import SolveResult, load_result, save_result
from footdt.spec.profile import SolverProfile, load_profile, options_for
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


# --- the contract itself: types, immutability, options, one-line registration ----------------


def _hints(cls: type, method: str) -> dict[str, Any]:
    return typing.get_type_hints(getattr(cls, method))


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_backend_satisfies_the_protocol(name: str, tmp_path: Path) -> None:
    """Every registered backend (available or not): its own options type, and prepare -> a
    frozen Job subclass, run -> a frozen RunRecord subclass, extract -> SolveResult, by their
    annotations; prepare works without the solver, run and extract where it is available."""
    cls = backend_class(name)
    assert cls.name == name
    assert issubclass(cls.options_type, SolverProfile) and cls.options_type is not SolverProfile
    assert (
        cls.options_type.backend_name() == name and "default" in cls.options_type.linear_solvers()
    )
    prep, run, extract = (_hints(cls, m) for m in ("prepare", "run", "extract"))
    job_type, run_type = prep["return"], run["return"]
    assert prep["options"] is cls.options_type
    assert issubclass(job_type, Job) and dataclasses.is_dataclass(job_type)
    assert job_type.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert issubclass(run_type, RunRecord) and run_type.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert run["job"] is job_type and (extract["job"], extract["run"]) == (job_type, run_type)
    assert extract["return"] is SolveResult

    be = get_backend(name)
    model = bar_model(pressure=2.0)
    job = be.prepare(model, tmp_path, be.resolve_options())
    assert type(job) is job_type and job.model is model and job.workdir == tmp_path
    assert all(p.is_file() and p.parent == tmp_path for p in job.files.values())
    assert {p.name for p in job.files.values()} == set(cls.inputs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.workdir = tmp_path / "elsewhere"  # type: ignore[misc]
    if not be.availability():
        return
    record = be.run(job)
    assert type(record) is run_type and record.wall_time >= 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.wall_time = 0.0  # type: ignore[misc]
    result = be.extract(job, record)
    assert isinstance(result, SolveResult) and result.backend == name
    assert np.allclose(result.phases["load"].von_mises, 2.0, rtol=1e-6)


def test_solve_result_is_immutable(tmp_path: Path) -> None:
    model = bar_model()
    result = get_backend("native").solve(model, tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.wall_time = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.phases["load"].von_mises = np.zeros(3)  # type: ignore[misc]
    for array in (result.element_volume, result.phases["load"].von_mises,
                  result.phases["load"].stress):  # fmt: skip
        assert array is not None
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0.0
    assert dataclasses.replace(result, wall_time=2.0).wall_time == 2.0 != result.wall_time
    again = load_result(save_result(result, tmp_path).parent, "native")
    assert dataclasses.is_dataclass(again) and again.model_hash == result.model_hash
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.backend = "x"  # type: ignore[misc]


@pytest.mark.parametrize("name", list(REGISTRY))
def test_options_refuse_another_backends_solver_in_one_line(name: str, tmp_path: Path) -> None:
    own = backend_class(name).options_type.linear_solvers()
    others = {s for b in REGISTRY for s in backend_class(b).options_type.linear_solvers()}
    assert others - set(own), "every backend shares all solvers: nothing to refuse"
    profile = tmp_path / "p.toml"
    for solver in sorted(others - set(own)):
        with pytest.raises(SpecError) as err:
            get_backend(name).options(linear_solver=solver)
        msg = str(err.value)
        assert "\n" not in msg and f"{solver!r} is not" in msg and name in msg
        assert f"use one of {', '.join(own)}" in msg
        profile.write_text(f'backend = "{name}"\nlinear_solver = "{solver}"\n')
        with pytest.raises(SpecError) as err:
            load_profile(profile)
        assert "\n" not in str(err.value) and f"use one of {', '.join(own)}" in str(err.value)
    for solver in own:
        assert options_for(name, linear_solver=solver).linear_solver == solver


def test_options_belong_to_their_backend(tmp_path: Path) -> None:
    sfepy = options_for("sfepy")
    with pytest.raises(SpecError, match="options for backend 'sfepy' .*given to backend 'native'"):
        get_backend("native").solve(bar_model(), tmp_path, sfepy)
    with pytest.raises(ValueError, match="SolverProfile is abstract"):
        SolverProfile(backend="sfepy")
    with pytest.raises(FootdtError, match="unknown backend .ansys."):
        options_for("ansys")


def test_a_backend_is_one_module_and_one_registry_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(REGISTRY, "toy", "tests.backends.toy_backend:ToyBackend")

    model = bar_model(pressure=2.0)
    result = get_backend("toy").solve(model, tmp_path / "run")
    assert (result.backend, result.backend_version, result.model_hash) == (
        "toy", "0.1", model.content_hash())  # fmt: skip
    assert np.allclose(result.phases["load"].von_mises, 2.0) and result.wall_time > 0
    assert load_result(save_result(result, tmp_path).parent, "toy").phases.keys() == {"load"}
    profile = tmp_path / "toy.toml"
    profile.write_text('backend = "toy"\nlinear_solver = "exact"\n')
    exact = load_profile(profile)
    assert type(exact).__name__ == "ToyOptions" and exact.linear_solver == "exact"
    assert get_backend("toy").solve(model, tmp_path / "exact", exact).info == {
        "linear_solver": "exact"
    }
    with pytest.raises(
        SpecError, match="'pardiso' is not a toy linear solver; use one of default, exact"
    ):
        options_for("toy", linear_solver="pardiso")
    with pytest.raises(UnsupportedFeature, match="connector.linear.*use --backend"):
        get_backend("toy").check(inclusion_model(divisions=2, connector_law="linear"))
    assert "toy" in backends_with("load.pressure")

    from typer.testing import CliRunner

    from footdt.cli.app import app

    spec = Path(__file__).parents[2] / "specs" / "verification" / "bar_compression.yaml"
    args = ["solve", str(spec), "--backend", "toy", "--store", str(tmp_path / "labels.db"),
            "--workdir", str(tmp_path / "cli")]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    with LabelStore(str(tmp_path / "labels.db")) as store:
        assert store.backends() == ["toy"]


def test_docs_show_the_toy_backend() -> None:
    """docs/backends.md shows the whole toy module: the example cannot drift from the code."""
    docs = (Path(__file__).parents[2] / "docs" / "backends.md").read_text()
    module = (Path(__file__).with_name("toy_backend.py")).read_text()
    assert module in docs
    assert 'REGISTRY["toy"] = "tests.backends.toy_backend:ToyBackend"' in docs
