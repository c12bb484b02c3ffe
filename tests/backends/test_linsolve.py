"""Linear solvers: same answers, factorisation reuse, honest failures."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from footdt.backends import linsolve
from footdt.errors import BackendUnavailable, SolveError
from tests.factories import inclusion_model

pytest.importorskip("sfepy")

from footdt.backends.sfepy import SfepyFE, constrained_system, phase_constraints


@pytest.fixture(scope="module")
def system() -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """A constrained two-material elasticity matrix (100:1 contrast), node coordinates, a load."""
    model = inclusion_model(divisions=6)
    fixed, _ = phase_constraints(model, model.phases[0])
    A, _ = constrained_system(SfepyFE(model).K, fixed)
    b = np.random.default_rng(0).normal(size=A.shape[0])
    b[fixed] = 0.0
    return A, model.nodes, b


def test_rigid_body_modes_are_in_the_free_stiffness_kernel() -> None:
    model = inclusion_model(divisions=3)
    K = SfepyFE(model).K
    B = linsolve.rigid_body_modes(model.nodes)
    assert B.shape == (3 * model.n_nodes, 6)
    assert np.linalg.matrix_rank(B) == 6
    assert abs(K @ B).max() < 1e-10 * abs(K).max() * abs(B).max()


@pytest.mark.parametrize("method", ["pardiso", "amg", "superlu"])
def test_every_method_solves_repeatedly_to_tolerance(method: str, system) -> None:
    A, coords, b = system
    fac = linsolve.factorize(A, method, rtol=1e-10, near_nullspace_coords=coords)
    assert fac.method == method
    x_ref = sp.linalg.spsolve(A.tocsc(), b)
    for scale in (1.0, -3.0):  # two right-hand sides, one factorisation
        x = fac.solve(scale * b)
        assert linsolve.relative_residual(A, x, scale * b) < 1e-10
        assert np.allclose(x, scale * x_ref, rtol=1e-7, atol=1e-9 * abs(x_ref).max())
    assert len(fac.info["solve_time"]) == 2


def test_pardiso_uses_the_symmetric_positive_definite_mode(system) -> None:
    A, _, b = system
    fac = linsolve.factorize(A, "pardiso")
    assert fac.info["mtype"] == 2
    x = fac.solve(b)
    assert linsolve.relative_residual(A, x, b) < 1e-12


def test_pardiso_threads_are_set_locally_and_restored(system) -> None:
    A, _, b = system
    fac = linsolve.factorize(A, "pardiso", threads=1)
    lib = fac._solver.libmkl  # type: ignore[attr-defined]
    before = lib.MKL_Get_Max_Threads()
    with linsolve._mkl_threads(lib, 1):
        assert lib.MKL_Get_Max_Threads() == 1
    assert lib.MKL_Get_Max_Threads() == before
    x = fac.solve(b)
    assert fac.info["threads"] == 1
    assert lib.MKL_Get_Max_Threads() == before
    assert linsolve.relative_residual(A, x, b) < 1e-12


def test_amg_with_rigid_body_modes_beats_the_default_near_nullspace(system) -> None:
    A, coords, b = system
    rbm = linsolve.factorize(A, "amg", rtol=1e-8, near_nullspace_coords=coords)
    plain = linsolve.factorize(A, "amg", rtol=1e-8)
    rbm.solve(b), plain.solve(b)
    assert rbm.info["near_nullspace"] == "rigid_body_modes"
    assert plain.info["near_nullspace"] == "constant"
    assert rbm.info["iterations"][0] < plain.info["iterations"][0]


def test_amg_out_of_iterations_raises(system) -> None:
    A, coords, b = system
    fac = linsolve.factorize(A, "amg", rtol=1e-12, max_iterations=2, near_nullspace_coords=coords)
    with pytest.raises(SolveError, match="stopped after 2 iterations"):
        fac.solve(b)


def test_superlu_refuses_large_systems(system) -> None:
    A, _, _ = system
    with pytest.raises(SolveError, match=r"refuses \d+ DOF .*'pardiso' or 'amg'"):
        linsolve.factorize(A, "superlu", superlu_max_dofs=A.shape[0] - 1)
    assert linsolve.factorize(A, "superlu", superlu_max_dofs=A.shape[0]).method == "superlu"


def test_singular_matrix_is_an_error_not_an_answer() -> None:
    K = SfepyFE(inclusion_model(divisions=3)).K  # no supports: six rigid-body modes
    with pytest.raises(SolveError, match="not fully constrained"):
        linsolve.factorize(K, "pardiso")


def test_method_names() -> None:
    expected = "pardiso" if linsolve.pardiso_available() else "amg"
    assert linsolve.resolve_method("default") == expected
    with pytest.raises(SolveError, match="unknown linear solver 'mumps'"):
        linsolve.resolve_method("mumps")


def test_without_pardiso_default_falls_back_to_amg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linsolve, "pardiso_available", lambda: False)
    assert linsolve.resolve_method("default") == "amg"
    with pytest.raises(BackendUnavailable, match="pip install pypardiso"):
        linsolve.resolve_method("pardiso")


def test_pardiso_reuses_the_analysis_of_a_matrix_with_the_same_pattern(system) -> None:
    """A morphed subject: same sparsity pattern, other values. The second factorisation skips
    PARDISO's analysis, and its answers are those of a fresh factorisation of that matrix."""
    if not linsolve.pardiso_available():
        pytest.skip("pypardiso/MKL not available")
    A, _, b = system
    linsolve.KEPT_ANALYSIS.clear()
    first = linsolve.factorize(A, "pardiso")
    assert first.info["analysis_reused"] is False
    x1 = first.solve(b)
    del first  # its numeric factor is freed, its analysis kept
    # the same pattern with other values: D A D with a positive diagonal D (still SPD)
    A2 = sp.csr_matrix(A, copy=True)
    d = np.linspace(1.0, 3.0, A.shape[0])
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A2.indptr))
    A2.data = A2.data * d[rows] * d[A2.indices]
    assert linsolve.pattern_key(sp.triu(A2, format="csr")) == linsolve.pattern_key(
        sp.triu(A, format="csr")
    )
    second = linsolve.factorize(A2, "pardiso")
    assert second.info["analysis_reused"] is True
    x2 = second.solve(b)
    fresh = linsolve.PardisoSPD(A2, reuse_analysis=False)
    assert fresh.info["analysis_reused"] is False
    assert linsolve.relative_residual(A2, x2, b) < 1e-12
    assert np.allclose(x2, fresh.solve(b), rtol=1e-10, atol=1e-12 * abs(x2).max())
    assert not np.allclose(x1, x2)  # it really solved the new matrix
    many = second.solve(np.column_stack([b, -b]))  # several right-hand sides at once
    assert np.allclose(many[:, 0], x2) and np.allclose(many[:, 1], -x2)
    del second, fresh
    # another pattern: analysed afresh (the kept analysis is for A's pattern)
    A3 = sp.csr_matrix(sp.block_diag([A, A]))
    third = linsolve.factorize(A3, "pardiso")
    assert third.info["analysis_reused"] is False
    x3 = third.solve(np.concatenate([b, b]))
    assert linsolve.relative_residual(A3, x3, np.concatenate([b, b])) < 1e-12
    del third
    linsolve.KEPT_ANALYSIS.clear()
