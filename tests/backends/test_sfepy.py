"""The SfePy backend against closed-form answers and an independent numpy discretisation."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from footdt.errors import ModelError, SolveError, UnsupportedFeature
from footdt.ir import AnalysisModel, Connector, FixedDofs, NodalLoad, Phase, Pressure, replace
from footdt.mechanics import isotropic_stiffness
from footdt.mesh.topology import face_centroids_normals, interface_faces
from tests.factories import bar_model, inclusion_model

pytest.importorskip("sfepy")

from footdt.backends.sfepy import SfepyBackend, SfepyFE, SfepyOptions, connector_geometry

#: bar_model() defaults: 20 x 4 x 4 mm, E 1000 MPa, 2 MPa on the +x end.
BAR_SIZE, BAR_E, BAR_P = (20.0, 4.0, 4.0), 1000.0, 2.0


def profile(**kw: Any) -> SfepyOptions:
    return SfepyOptions(**kw)


def _gradients(nodes: np.ndarray, elements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shape-function gradients (M, 4, 3) and volumes of linear tets, computed independently."""
    M = np.concatenate([np.ones((*elements.shape, 1)), nodes[elements]], axis=2)  # (M, 4, 4)
    inv = np.linalg.inv(M)  # columns: coefficients of N_i
    return np.transpose(inv[:, 1:, :], (0, 2, 1)), np.abs(np.linalg.det(M)) / 6.0


def _bmatrix(grads: np.ndarray) -> np.ndarray:
    """(M, 6, 12) strain-displacement matrices, strains xx yy zz xy xz yz (engineering shear)."""
    B = np.zeros((len(grads), 6, 12))
    for i in range(4):
        gx, gy, gz = grads[:, i, 0], grads[:, i, 1], grads[:, i, 2]
        c = 3 * i
        B[:, 0, c], B[:, 1, c + 1], B[:, 2, c + 2] = gx, gy, gz
        B[:, 3, c], B[:, 3, c + 1] = gy, gx
        B[:, 4, c], B[:, 4, c + 2] = gz, gx
        B[:, 5, c + 1], B[:, 5, c + 2] = gz, gy
    return B


def _element_D(model: AnalysisModel) -> np.ndarray:
    D = np.zeros((model.n_elements, 6, 6))
    for part, idx in model.parts.items():
        mat = model.materials[model.sections[part]]
        D[idx] = isotropic_stiffness(mat.E, mat.nu)
    return D


def numpy_stiffness(model: AnalysisModel) -> sp.csr_matrix:
    grads, vol = _gradients(model.nodes, model.elements)
    B = _bmatrix(grads)
    Ke = np.einsum("e,eji,ejk,ekl->eil", vol, B, _element_D(model), B)
    dofs = (3 * model.elements[:, :, None] + np.arange(3)).reshape(-1, 12)
    rows, cols = np.repeat(dofs, 12, axis=1), np.tile(dofs, (1, 12))
    n = 3 * model.n_nodes
    return sp.csr_matrix((Ke.ravel(), (rows.ravel(), cols.ravel())), shape=(n, n))


# ----------------------------------------------------------------------------- the backend as data
def test_declares_capabilities_and_version() -> None:
    b = SfepyBackend()
    assert b.availability()
    assert b.version().split(".")[0].isdigit()
    assert {
        "element.tetra",
        "connector.tension_only",
        "bc.prescribed_displacement",
    } <= b.capabilities
    assert not {"connector.slip_ring", "tie.nonconforming", "element.tetra10"} & b.capabilities


def test_import_is_light() -> None:
    code = (
        "import sys, footdt.backends.sfepy, footdt.backends.linsolve; "
        "print(sorted(m for m in ('sfepy', 'pypardiso', 'pyamg') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_solve_prints_nothing(tmp_path, capsys) -> None:
    SfepyBackend().solve(bar_model(), tmp_path)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


# ----------------------------------------------------------------------------- discretisation
def test_stiffness_matches_independent_assembly_in_ir_dof_order() -> None:
    model = inclusion_model(divisions=4)  # two materials
    K = SfepyFE(model).K
    K_ref = numpy_stiffness(model)
    assert abs(K - K_ref).max() <= 1e-10 * abs(K_ref).max()


def test_stress_component_and_element_order() -> None:
    model = inclusion_model(divisions=4, E_matrix=10.0, E_inclusion=1000.0)
    fe = SfepyFE(model)
    rng = np.random.default_rng(3)
    u = rng.normal(size=3 * model.n_nodes)  # a non-affine field: every element strain differs
    grads, _ = _gradients(model.nodes, model.elements)
    ue = u.reshape(-1, 3)[model.elements].reshape(-1, 12)
    expected = np.einsum("eij,ejk,ek->ei", _element_D(model), _bmatrix(grads), ue)
    assert np.allclose(fe.stress(u), expected, rtol=1e-10, atol=1e-10 * abs(expected).max())


def test_pressure_load_uses_exactly_the_ir_faces_and_pushes_inwards() -> None:
    model = bar_model()
    fe = SfepyFE(model)
    f = fe.unit_pressure["xmax"].reshape(-1, 3)
    area = BAR_SIZE[1] * BAR_SIZE[2]
    assert np.allclose(f.sum(axis=0), [-area, 0, 0], atol=1e-12)  # P = 1 MPa into the body
    loaded = np.flatnonzero(np.abs(f).sum(axis=1) > 0)
    assert set(loaded) <= set(model.node_sets["xmax"].tolist())


def test_pressure_on_interior_faces_acts_from_the_owning_element_only() -> None:
    model = inclusion_model(divisions=8)
    inside = np.zeros(model.n_elements, dtype=bool)
    inside[model.parts["inclusion"]] = True
    faces = interface_faces(model.elements, inside)
    _, normals, areas = face_centroids_normals(model.nodes, model.elements, faces)
    plus_x = faces[normals[:, 0] > 0.5]  # the inclusion's +x face, outward = +x
    surfaces = {**model.surfaces, "inner": plus_x}
    phases = (Phase("p", pressures=(Pressure("inner", 1.0),), fixed=model.phases[0].fixed),)
    fe = SfepyFE(replace(model, surfaces=surfaces, phases=phases))
    total = fe.unit_pressure["inner"].reshape(-1, 3).sum(axis=0)
    assert np.allclose(total, [-areas[normals[:, 0] > 0.5].sum(), 0, 0], atol=1e-10)
    assert np.isclose(-total[0], 5.0 * 5.0, rtol=1e-12)  # 5 mm x 5 mm block face


# ----------------------------------------------------------------------------- closed-form bar
@pytest.mark.parametrize("method", ["pardiso", "amg", "superlu"])
def test_bar_uniform_compression(method: str, tmp_path) -> None:
    L, E, p = BAR_SIZE[0], BAR_E, BAR_P
    A = BAR_SIZE[1] * BAR_SIZE[2]
    model = bar_model()
    res = SfepyBackend().solve(model, tmp_path, profile(linear_solver=method))
    ph = res.phases["load"]
    assert ph.stress is not None and ph.displacement is not None and ph.reaction is not None
    assert np.allclose(ph.stress[:, 0], -p, rtol=1e-8, atol=0)
    assert np.abs(ph.stress[:, 1:]).max() < 1e-8 * p
    assert np.allclose(ph.von_mises, p, rtol=1e-8)
    # Reaction = K u - f at the supports = force the supports exert on the bar: it balances the
    # applied -p*A (Abaqus/CalculiX RF sign), so +p*A along x.
    assert np.allclose(ph.reaction, [p * A, 0, 0], rtol=1e-8, atol=1e-8 * p * A)
    assert np.allclose(ph.displacement[model.node_sets["xmax"], 0], -p * L / E, rtol=1e-8)
    assert ph.residual is not None and ph.residual < 1e-8
    assert np.isclose(res.element_volume.sum(), L * A)
    assert res.backend == "sfepy" and res.mesh_hash == model.mesh_hash()


def test_bar_stretched_by_prescribed_displacement(tmp_path) -> None:
    L, E, delta = BAR_SIZE[0], BAR_E, 0.05
    model = bar_model()
    fixed = (*model.phases[0].fixed, FixedDofs("pull", "xmax", (0,), delta))
    model = replace(model, phases=(Phase("pull", fixed=fixed),))
    ph = SfepyBackend().solve(model, tmp_path).phases["pull"]
    assert ph.stress is not None and ph.displacement is not None and ph.reaction is not None
    assert np.allclose(ph.stress[:, 0], E * delta / L, rtol=1e-8)
    assert np.abs(ph.stress[:, 1:]).max() < 1e-8 * E * delta / L
    assert np.allclose(ph.displacement[model.node_sets["xmax"], 0], delta)
    assert abs(ph.reaction[0]) < 1e-8 * E * delta  # pulled at xmax, held at xmin: they cancel


# ----------------------------------------------------------------------------- solvers and phases
def test_inclusion_pardiso_and_amg_agree_with_one_factorisation(tmp_path) -> None:
    model = inclusion_model()
    runs = {
        m: SfepyBackend().solve(model, tmp_path, profile(linear_solver=m))
        for m in ("pardiso", "amg")
    }
    for res in runs.values():
        assert res.info["factorizations"] == 1  # both phases share the fixed set: factor once
        assert res.info["solver_runs"][0]["phases"] == ["press", "shear"]
        assert res.max_residual is not None and res.max_residual < 1e-8
    assert runs["pardiso"].info["solver_runs"][0]["mtype"] == 2
    assert all(0 < it < 100 for it in runs["amg"].info["solver_runs"][0]["iterations"])
    for name in ("press", "shear"):
        a, b = runs["pardiso"].phases[name], runs["amg"].phases[name]
        assert a.stress is not None and b.stress is not None
        assert np.allclose(a.stress, b.stress, rtol=1e-6, atol=1e-6 * abs(a.stress).max())
        assert np.allclose(a.von_mises, b.von_mises, rtol=1e-6)
    press, shear = runs["pardiso"].phases["press"], runs["pardiso"].phases["shear"]
    assert press.reaction is not None and shear.reaction is not None
    assert np.allclose(press.reaction, [0, 0, -0.1 * 100.0], atol=1e-8)  # 0.1 MPa on 10 x 10 mm
    assert np.allclose(shear.reaction, [0, 0, 5.0], atol=1e-8)  # -5 N nodal loads


def test_tension_only_band_carries_tension_and_no_compression(tmp_path) -> None:
    from footdt.backends import linsolve

    linsolve.KEPT_ANALYSIS.clear()
    runs = {law: SfepyBackend().solve(inclusion_model(connector_law=law), tmp_path)
            for law in (None, "linear", "tension_only")}  # fmt: skip
    linear, tonly, none = runs["linear"], runs["tension_only"], runs[None]
    # press: the sole is pushed up and spreads, the band is stretched; shear: it is compressed.
    assert linear.info["connector_force"]["press"]["band"] > 0.1
    assert linear.info["connector_force"]["shear"]["band"] < -0.01
    assert tonly.info["active_set"] == {"press": ["band"], "shear": []}
    assert tonly.info["connector_force"]["shear"]["band"] == 0.0
    assert np.isclose(tonly.info["connector_force"]["press"]["band"],
                      linear.info["connector_force"]["press"]["band"], rtol=1e-8)  # fmt: skip
    for law_run, ref in ((tonly.phases["press"], linear.phases["press"]),
                         (tonly.phases["shear"], none.phases["shear"])):  # fmt: skip
        assert np.allclose(law_run.von_mises, ref.von_mises, rtol=1e-8, atol=1e-12)
    assert not np.allclose(
        linear.phases["shear"].von_mises, none.phases["shear"].von_mises, rtol=1e-6
    )
    # Round 1 shares one factorisation (all bands active); shear alone needs a second.
    assert tonly.info["factorizations"] == 2
    assert tonly.info["active_set_solves"] == {"press": 1, "shear": 2}
    if tonly.info["linear_solver"] == "pardiso":
        # an inactive band keeps its place in the matrix (explicit zeros), so every matrix with the
        # band has one pattern: PARDISO analyses it once (the linear run) and then only refactors
        reused = {law: [r["analysis_reused"] for r in run.info["solver_runs"]]
                  for law, run in runs.items()}  # fmt: skip
        assert reused == {None: [False], "linear": [False], "tension_only": [True, True]}
    linsolve.KEPT_ANALYSIS.clear()


def test_active_set_gives_up_after_the_profile_limit(tmp_path) -> None:
    model = inclusion_model(connector_law="tension_only")
    with pytest.raises(SolveError, match="shear.*max_active_set_iterations"):
        SfepyBackend().solve(model, tmp_path, profile(max_active_set_iterations=1))


def test_nodal_loads_and_pressures_add(tmp_path) -> None:
    model = inclusion_model()
    both = Phase("both", pressures=model.phases[0].pressures,
                 nodal_loads=model.phases[1].nodal_loads, fixed=model.phases[0].fixed)  # fmt: skip
    res = SfepyBackend().solve(replace(model, phases=(*model.phases, both)), tmp_path)
    s = {k: v.stress for k, v in res.phases.items()}
    assert s["both"] is not None and s["press"] is not None and s["shear"] is not None
    assert np.allclose(s["both"], s["press"] + s["shear"], atol=1e-9)
    assert res.info["factorizations"] == 1


def test_phases_with_different_supports_get_their_own_factorisation(tmp_path) -> None:
    model = inclusion_model()
    held = (*model.phases[0].fixed, FixedDofs("sole", "zmin", (0, 1)))
    extra = Phase("press_held", pressures=model.phases[0].pressures, fixed=held)
    res = SfepyBackend().solve(replace(model, phases=(*model.phases, extra)), tmp_path)
    assert res.info["factorizations"] == 2
    assert sorted(r["phases"] for r in res.info["solver_runs"]) == [
        ["press", "shear"],
        ["press_held"],
    ]
    a, b = res.phases["press"].von_mises, res.phases["press_held"].von_mises
    assert not np.allclose(a, b, rtol=1e-3)


# ----------------------------------------------------------------------------- refusing bad answers
def test_residual_above_rtol_is_an_error_naming_the_phase(tmp_path) -> None:
    with pytest.raises(SolveError, match=r"phase 'press': relative residual .* exceeds rtol 1e-30"):
        SfepyBackend().solve(inclusion_model(divisions=4), tmp_path, profile(rtol=1e-30))


def test_amg_out_of_iterations_is_an_error(tmp_path) -> None:
    with pytest.raises(SolveError, match="phase 'press'.*CG stopped after 2 iterations"):
        SfepyBackend().solve(
            inclusion_model(), tmp_path, profile(linear_solver="amg", max_iterations=2)
        )


def test_unconstrained_phase_is_an_error(tmp_path) -> None:
    model = bar_model()
    free = Phase("free", nodal_loads=(NodalLoad("f", "xmax", np.zeros((9, 3))),))
    with pytest.raises(ModelError, match="phase 'free': part.* can move as a rigid body"):
        SfepyBackend().solve(replace(model, phases=(free,)), tmp_path)  # ir.validate, first


def test_slip_ring_is_refused_not_approximated() -> None:
    model = inclusion_model(connector_law="linear")
    ring = replace(model, connectors=(Connector("ring", 0, 1, "slip_ring", 10.0),))
    assert "connector.slip_ring" in ring.features()
    assert "connector.slip_ring" not in SfepyBackend.capabilities
    with pytest.raises(UnsupportedFeature, match="slip_ring"):
        connector_geometry(ring)
