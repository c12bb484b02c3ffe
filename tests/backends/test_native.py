"""The native backend: footdt's own vectorised kernel, the kept factorisation, its records."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

from footdt.backends import get_backend, linsolve
from footdt.backends.native import NativeBackend, NativeOptions
from footdt.errors import SolveError
from footdt.fem.assembly import TOPOLOGIES, Discretisation
from footdt.ir import AnalysisModel, replace
from footdt.mechanics import tet_volumes
from tests.factories import bar_model, inclusion_model

needs_pardiso = pytest.mark.skipif(not linsolve.pardiso_available(), reason="needs pypardiso")


def profile(**kw: Any) -> NativeOptions:
    return NativeOptions(**kw)


@pytest.fixture(autouse=True)
def _fresh() -> None:
    linsolve.KEPT_FACTOR.clear()
    yield
    linsolve.KEPT_FACTOR.clear()


def full(model: AnalysisModel) -> sp.csr_matrix:
    d = Discretisation(model)
    U = d.topology.upper(d.blocks)
    return sp.csr_matrix(U + U.T - sp.diags(U.diagonal()))


def _to_tetra10(model: AnalysisModel) -> AnalysisModel:
    """The same mesh with straight mid-side nodes; node sets gain the mid-sides of their faces."""
    from footdt.ir import TET10_FACE_MIDSIDES

    edges = [(0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)]
    pairs = np.sort(np.concatenate([model.elements[:, e] for e in edges]), axis=1)
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    nodes = np.vstack([model.nodes, model.nodes[uniq].mean(axis=1)])
    elements = np.hstack([model.elements, (model.n_nodes + inverse.ravel()).reshape(6, -1).T])
    sets = {}
    for name, surf in model.surfaces.items():
        mids = np.take_along_axis(
            elements[surf[:, 0]], np.asarray(TET10_FACE_MIDSIDES)[surf[:, 1]], axis=1
        )
        sets[name] = np.unique(np.concatenate([model.node_sets[name], mids.ravel()]))
    return replace(model, nodes=nodes, elements=elements, cell_type="tetra10", node_sets=sets)


def morph(model: AnalysisModel, amount: float) -> AnalysisModel:
    """The model on a smoothly deformed mesh (same topology): ``amount`` 0 is the model itself."""
    x = model.nodes / 10.0
    shift = np.column_stack([
        0.8 * np.sin(np.pi * x[:, 1]) * x[:, 2],
        0.6 * x[:, 0] * x[:, 2] - 0.3 * x[:, 1] ** 2,
        1.0 * np.sin(np.pi * x[:, 0]) * x[:, 1],
    ])  # fmt: skip
    return replace(model, nodes=model.nodes + 10.0 * amount * shift, subject=f"morph{amount:g}")


# ------------------------------------------------------------------------------ the kernel
@pytest.mark.parametrize("law", [None, "linear"])
def test_stiffness_loads_and_stress_equal_sfepys(law: str | None) -> None:
    pytest.importorskip("sfepy")
    from footdt.backends.sfepy import SfepyFE

    model = morph(inclusion_model(divisions=4, connector_law=law), 0.05)
    ours, theirs = Discretisation(model), SfepyFE(model)
    K = full(model)
    assert abs(K - theirs.K).max() < 1e-12 * abs(theirs.K).max()
    for surf, f in theirs.unit_pressure.items():
        assert np.allclose(ours.unit_pressure[surf], f, rtol=0, atol=1e-14 * abs(f).max())
    u = np.random.default_rng(1).normal(size=3 * model.n_nodes)
    s = theirs.stress(u)
    assert np.allclose(ours.stress(u), s, rtol=0, atol=1e-12 * abs(s).max())
    assert np.allclose(ours.volumes, tet_volumes(model.nodes, model.elements), rtol=1e-12)


def test_stiffness_has_rigid_body_modes_in_its_kernel_for_both_orders() -> None:
    for model in (morph(bar_model(), 0.02), _to_tetra10(morph(bar_model(), 0.02))):
        K, B = full(model), linsolve.rigid_body_modes(model.nodes)
        assert abs(K @ B).max() < 1e-10 * abs(K).max() * abs(B).max()
        assert np.allclose(K.diagonal() > 0, True)


def test_tetra10_pressure_is_consistent_and_sums_to_the_face_force() -> None:
    model = _to_tetra10(bar_model(pressure=2.0))
    f = Discretisation(model).unit_pressure["xmax"].reshape(-1, 3)
    assert np.allclose(f.sum(axis=0), [-16.0, 0.0, 0.0])  # 4 x 4 mm face, 1 MPa inwards (-x)
    corners = np.unique(model.elements[:, :4])
    assert np.allclose(f[corners], 0.0, atol=1e-12)  # flat quadratic faces: corners carry nothing


def test_topology_is_built_once_per_mesh_topology() -> None:
    TOPOLOGIES.clear()
    model = inclusion_model(divisions=3)
    a, b = Discretisation(model), Discretisation(morph(model, 0.1))
    assert a.topology is b.topology
    assert not np.allclose(a.blocks, b.blocks)


@pytest.mark.parametrize("cell", ["tetra", "tetra10"])
def test_bar_uniform_compression_both_orders(cell: str, tmp_path) -> None:
    model = bar_model(pressure=2.0)
    model = model if cell == "tetra" else _to_tetra10(model)
    ph = NativeBackend().solve(model, tmp_path).phases["load"]
    assert ph.stress is not None and ph.reaction is not None
    np.testing.assert_allclose(ph.stress[:, 0], -2.0, rtol=1e-7)
    np.testing.assert_allclose(ph.stress[:, 1:], 0.0, atol=1e-7)
    np.testing.assert_allclose(ph.reaction, [32.0, 0.0, 0.0], rtol=1e-7, atol=1e-8)


def test_non_positive_volume_is_an_error() -> None:
    model = bar_model()
    flipped = model.elements.copy()
    flipped[0, [1, 2]] = flipped[0, [2, 1]]
    with pytest.raises(Exception, match="non-positive volume"):
        Discretisation(replace(model, elements=flipped))


# ------------------------------------------------------------------------------ answers
@pytest.mark.parametrize("law", [None, "linear", "tension_only"])
def test_same_answers_as_sfepy(law: str | None, tmp_path) -> None:
    pytest.importorskip("sfepy")
    model = morph(inclusion_model(divisions=6, connector_law=law), 0.05)
    ours = NativeBackend().solve(model, tmp_path / "n")
    theirs = get_backend("sfepy").solve(model, tmp_path / "s")
    for name, ph in theirs.phases.items():
        assert np.allclose(ours.phases[name].von_mises, ph.von_mises, rtol=1e-7, atol=1e-12)
        assert np.allclose(ours.phases[name].reaction, ph.reaction, rtol=1e-7, atol=1e-9)
    assert ours.info["active_set"] == theirs.info["active_set"]


# ------------------------------------------------------------------------------ factor once
def _labels(result) -> np.ndarray:
    return np.concatenate([p.von_mises for p in result.phases.values()])


@needs_pardiso
def test_first_solve_makes_and_keeps_a_factorisation(tmp_path) -> None:
    model = inclusion_model(divisions=6)
    first = NativeBackend().solve(model, tmp_path / "a")
    (run,) = first.info["solver_runs"]
    assert run["method"] == "pcg_kept_factor" and run["kept_factor"] == "made"
    assert run["preconditioner"]["own"] and run["preconditioner"]["subject"] == "block"
    assert run["phases"] == ["press", "shear"] and len(run["iterations"]) == 2
    assert linsolve.KEPT_FACTOR.label() == {"subject": "block", "trial": "1",
                                            "mesh_hash": model.mesh_hash()}  # fmt: skip
    again = NativeBackend().solve(model, tmp_path / "b")  # the same matrix: no factorisation
    (run2,) = again.info["solver_runs"]
    assert run2["kept_factor"] == "reused" and "factor_time" not in run2
    assert np.allclose(_labels(again), _labels(first), rtol=1e-8, atol=1e-12)


@needs_pardiso
@pytest.mark.parametrize("amount", [0.002, 0.3])
def test_morphed_runner_with_the_kept_factorisation_equals_its_own_direct_solve(
    amount: float, tmp_path
) -> None:
    """Near the template CG with the template's factorisation converges; far from it the runner
    is factorised itself (and says so). Either way its labels equal a direct double-precision
    solve of its own matrix."""
    template = inclusion_model(divisions=8, E_inclusion=5000.0)
    runner = morph(template, amount)
    NativeBackend().solve(template, tmp_path / "t")
    kept = NativeBackend().solve(runner, tmp_path / "k")
    (run,) = kept.info["solver_runs"]
    if amount < 0.1:
        assert run["kept_factor"] == "reused" and not run["refactorised"]
        assert run["preconditioner"]["subject"] == "block"
    else:
        assert run["kept_factor"] == "replaced" and run["refactorised"]
        assert "would need more than" in run["refactor_reason"]
        assert len(run["iterations_with_kept_factor"]) == 2 and run["analysis_reused"]
        assert linsolve.KEPT_FACTOR.label()["subject"] == runner.subject
    linsolve.KEPT_FACTOR.clear()
    direct = get_backend("sfepy").solve(runner, tmp_path / "d") if _has_sfepy() else None
    if direct is None:
        linsolve.KEPT_PRECISION, saved = "double", linsolve.KEPT_PRECISION
        try:
            direct = NativeBackend().solve(runner, tmp_path / "d")
        finally:
            linsolve.KEPT_PRECISION = saved
    assert np.allclose(_labels(kept), _labels(direct), rtol=1e-6, atol=1e-9)
    assert kept.max_residual is not None and kept.max_residual < 1e-8


def _has_sfepy() -> bool:
    return get_backend("sfepy").availability().ok


@needs_pardiso
def test_iteration_bound_from_the_profile_forces_a_factorisation(tmp_path) -> None:
    template = inclusion_model(divisions=6)
    NativeBackend().solve(template, tmp_path / "t")
    res = NativeBackend().solve(morph(template, 0.002), tmp_path / "r", profile(max_iterations=1))
    (run,) = res.info["solver_runs"]
    assert run["refactorised"] and run["kept_factor"] == "replaced"


@needs_pardiso
def test_tension_only_connectors_with_the_kept_factorisation(tmp_path) -> None:
    """The slack band changes the matrix by a rank-one term: CG with the factorisation of the
    all-active matrix solves it without a new factorisation."""
    runs = {law: NativeBackend().solve(inclusion_model(connector_law=law), tmp_path / str(law))
            for law in (None, "linear", "tension_only")}  # fmt: skip
    tonly = runs["tension_only"]
    assert tonly.info["active_set"] == {"press": ["band"], "shear": []}
    assert tonly.info["connector_force"]["shear"]["band"] == 0.0
    second = tonly.info["solver_runs"][1]
    assert second["phases"] == ["shear"] and second["kept_factor"] == "reused"
    assert not second["refactorised"]
    for name, ref in (("press", "linear"), ("shear", None)):
        assert np.allclose(tonly.phases[name].von_mises, runs[ref].phases[name].von_mises,
                           rtol=1e-7, atol=1e-12)  # fmt: skip


@needs_pardiso
def test_single_precision_factor_alone_is_not_the_answer_cg_makes_it_so() -> None:
    model = inclusion_model(divisions=6, E_inclusion=6000.0)
    from footdt.backends.native import _Assembler
    from footdt.fem.statics import phase_constraints

    fixed, _ = phase_constraints(model, model.phases[0])
    A, _, _ = _Assembler(model, Discretisation(model))(np.zeros(0, dtype=bool), fixed)
    b = np.random.default_rng(0).normal(size=A.shape[0])
    b[fixed] = 0.0
    single = linsolve.PardisoSPD(A, precision="single")
    assert single.info["precision"] == "single"
    assert linsolve.relative_residual(A.full(), single.solve(b), b) > 1e-7
    x = linsolve.factorize_kept(A, rtol=1e-10).solve(b)
    assert linsolve.relative_residual(A.full(), x, b) < 1e-10


def test_cg_that_cannot_converge_is_an_error() -> None:
    class Useless:
        info: ClassVar[dict[str, float]] = {"factor_time": 0.0}

        def solve(self, r: np.ndarray) -> np.ndarray:
            return np.zeros_like(r)

    A = linsolve.UpperSymmetric(sp.csr_matrix(sp.triu(sp.diags([1.0, 2.0, 3.0]))))
    pcg = linsolve.KeptFactorPCG.__new__(linsolve.KeptFactorPCG)
    pcg._A, pcg._rtol, pcg._cap, pcg._own, pcg._pre = A, 1e-8, 10, True, Useless()
    pcg.info = {"iterations": [], "solve_time": [], "preconditioner": {}}
    with pytest.raises(SolveError, match="CG preconditioned with its own .*broke down"):
        pcg.solve(np.ones(3))


def test_amg_and_superlu_still_work(tmp_path) -> None:
    model = inclusion_model(divisions=4)
    ref = NativeBackend().solve(model, tmp_path / "p")
    for method in ("amg", "superlu"):
        res = NativeBackend().solve(
            model, tmp_path / method, profile(linear_solver=method, rtol=1e-10)
        )
        assert res.info["linear_solver"] == method
        assert np.allclose(_labels(res), _labels(ref), rtol=1e-6, atol=1e-9)
