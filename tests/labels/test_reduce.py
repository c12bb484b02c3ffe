"""Label reduction checked by hand on tiny results built without any solver."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.errors import ModelError, SolveError
from footdt.ir import AnalysisModel, OutputRequest, replace
from footdt.labels.reduce import LABEL_FIELDS, reduce_result, weighted_quantile
from footdt.results import PhaseResult, SolveResult
from tests.factories import bar_model, inclusion_model


def make_result(
    model: AnalysisModel,
    von_mises: dict[str, np.ndarray],
    volume: np.ndarray | None = None,
    **kw: object,
) -> SolveResult:
    """A SolveResult for ``model`` with the given per-phase element von Mises (MPa)."""
    vol = np.ones(model.n_elements) if volume is None else volume
    args: dict = dict(
        subject=model.subject,
        trial=model.trial,
        backend="fake",
        backend_version="1.0",
        model_hash=model.content_hash(),
        spec_hash="spec0",
        mesh_hash=model.mesh_hash(),
        element_volume=np.asarray(vol, dtype=float),
        phases={
            k: PhaseResult(k, np.asarray(v, dtype=float), residual=1e-10)
            for k, v in von_mises.items()
        },
        wall_time=2.5,
    )
    args.update(kw)
    return SolveResult(**args)


def tiny_model() -> AnalysisModel:
    """12 tets; part 'a' = elements 0-4, part 'b' = 5-7, part 'rest' = 8-11 (not requested)."""
    m = bar_model(divisions=(2, 1, 1))
    assert m.n_elements == 12
    parts = {"a": np.arange(0, 5), "b": np.arange(5, 8), "rest": np.arange(8, 12)}
    return replace(m, parts=parts, outputs=OutputRequest(("a", "b"), ("mean", "p95", "p99", "max")))


def values(rows: list, phase: str, bone: str) -> dict[str, float]:
    return {r.stat: r.value_mpa for r in rows if r.phase == phase and r.bone == bone}


def test_statistics_by_hand() -> None:
    model = tiny_model()
    vm = np.zeros(12)
    vol = np.ones(12)
    # part a: values 30, 10, 50, 20, 40 with volumes 14, 50, 0.5, 30, 5.5 (total 100)
    vm[0:5], vol[0:5] = [30, 10, 50, 20, 40], [14, 50, 0.5, 30, 5.5]
    # part b: values 1, 2, 3 with volumes 0.95, 0.04, 0.01 (cumulative fraction hits 0.95 exactly)
    vm[5:8], vol[5:8] = [1, 2, 3], [0.95, 0.04, 0.01]
    vm[8:] = 1000.0  # part 'rest' is not requested and must not leak into a or b
    rows = reduce_result(make_result(model, {"load": vm}, vol), model)
    assert len(rows) == 1 * 2 * 4
    a = values(rows, "load", "a")
    # mean = (30*14 + 10*50 + 50*0.5 + 20*30 + 40*5.5) / 100 = 1765 / 100
    assert a["mean"] == pytest.approx(17.65, rel=1e-12)
    # sorted 10,20,30,40,50 -> cumulative fractions 0.50, 0.80, 0.94, 0.995, 1.0
    assert a["p95"] == 40.0  # 0.94 < 0.95 <= 0.995
    assert a["p99"] == 40.0  # 0.99 <= 0.995
    assert a["max"] == 50.0
    b = values(rows, "load", "b")
    assert b["mean"] == pytest.approx(0.95 * 1 + 0.04 * 2 + 0.01 * 3, rel=1e-12)  # 1.06
    assert b["p95"] == 1.0  # fraction <= 1 is exactly 0.95 >= 0.95
    assert b["p99"] == 2.0  # fraction <= 2 is 0.99 >= 0.99, fraction <= 1 is not
    assert b["max"] == 3.0


def test_weighted_quantile_docstring_example_and_brute_force() -> None:
    v, w = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0])
    assert weighted_quantile(v, w, 0.5) == 2.0
    assert weighted_quantile(v, w, 0.95) == 3.0
    assert weighted_quantile(v, w, 0.25) == 1.0
    rng = np.random.default_rng(3)
    for _ in range(20):
        v = rng.integers(0, 10, 40).astype(float)  # ties on purpose
        w = rng.uniform(0.1, 2.0, 40)
        for q in (0.1, 0.5, 0.95, 0.99, 1.0):
            frac = np.array([w[v <= x].sum() for x in v]) / w.sum()
            assert weighted_quantile(v, w, q) == v[frac >= q].min()


def test_rows_carry_provenance() -> None:
    model = tiny_model()
    result = make_result(model, {"load": np.arange(12.0)})
    rows = reduce_result(result, model, solve_id="abc")
    assert tuple(rows[0].to_dict()) == LABEL_FIELDS
    assert LABEL_FIELDS[:7] == ("subject", "trial", "phase", "bone", "stat", "value_mpa", "backend")
    r = rows[0]
    assert (r.subject, r.trial, r.backend, r.backend_version) == ("bar", "1", "fake", "1.0")
    assert (r.spec_hash, r.mesh_hash, r.model_hash) == (
        "spec0",
        model.mesh_hash(),
        model.content_hash(),
    )
    assert (r.solve_id, r.wall_time_s, r.residual) == ("abc", 2.5, 1e-10)
    assert r.created_at.endswith("+00:00")


def test_default_solve_id_is_a_content_address() -> None:
    model = tiny_model()
    vm = np.arange(12.0)
    id1 = reduce_result(make_result(model, {"load": vm}), model)[0].solve_id
    id2 = reduce_result(make_result(model, {"load": vm.copy()}), model)[0].solve_id
    id3 = reduce_result(make_result(model, {"load": vm + 1}), model)[0].solve_id
    assert id1 == id2 != id3


def test_max_on_boundary_flag() -> None:
    model = inclusion_model(divisions=4)
    inc, mat = model.parts["inclusion"], model.parts["matrix"]
    bnd = model.boundary_nodes(model.phase("press"))
    touching = mat[np.isin(model.elements[mat], bnd).any(axis=1)]
    free = mat[~np.isin(model.elements[mat], bnd).any(axis=1)]
    vm_press = np.ones(model.n_elements)
    vm_press[inc[7]] = 5.0  # inclusion elements are interior: no loaded or fixed node
    vm_press[touching[0]] = 9.0  # matrix max touches the pressed or fixed face
    vm_shear = np.ones(model.n_elements)
    vm_shear[free[0]] = 9.0  # matrix max away from every load and support
    vm_shear[inc[0]] = 2.0
    rows = reduce_result(make_result(model, {"press": vm_press, "shear": vm_shear}), model)
    flag = {(r.phase, r.bone): r.max_on_boundary for r in rows}
    assert flag[("press", "matrix")] is True
    assert flag[("press", "inclusion")] is False
    assert flag[("shear", "matrix")] is False
    # every row of a phase/part carries the same flag
    assert {r.max_on_boundary for r in rows if (r.phase, r.bone) == ("press", "matrix")} == {True}


def test_empty_output_parts_means_every_part() -> None:
    model = replace(inclusion_model(divisions=4), outputs=OutputRequest((), ("max",)))
    rows = reduce_result(
        make_result(model, {p.name: np.ones(model.n_elements) for p in model.phases}), model
    )
    assert sorted({r.bone for r in rows}) == ["inclusion", "matrix"]
    assert len(rows) == 2 * 2


@pytest.mark.parametrize(
    ("change", "error", "text"),
    [
        ({"subject": "other"}, ModelError, "does not belong"),
        ({"model_hash": "deadbeef"}, ModelError, "solved on model"),
        ({"phases": {}}, SolveError, "phases"),
        ({"element_volume": -np.ones(12)}, SolveError, "volumes"),
        ({"phases": {"load": PhaseResult("load", np.full(12, np.nan))}}, SolveError, "finite"),
        ({"phases": {"load": PhaseResult("load", np.ones(11))}}, SolveError, "12 finite"),
    ],
)
def test_bad_results_are_refused(change: dict, error: type, text: str) -> None:
    model = tiny_model()
    result = make_result(model, {"load": np.ones(12)}, **change)
    with pytest.raises(error, match=text):
        reduce_result(result, model)


def test_bad_output_request_is_refused() -> None:
    model = replace(tiny_model(), outputs=OutputRequest(("a", "nope"), ("mean",)))
    with pytest.raises(ModelError, match="'nope'"):
        reduce_result(make_result(model, {"load": np.ones(12)}), model)
    model = replace(tiny_model(), outputs=OutputRequest(("a",), ("median",)))
    with pytest.raises(ModelError, match="median"):
        reduce_result(make_result(model, {"load": np.ones(12)}), model)
