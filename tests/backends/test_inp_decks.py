"""Deck model and writer: golden decks (tolerant numeric diff), independence of steps, dialect rules."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

import footdt
from footdt.backends.abaqus import AbaqusDeckWriter
from footdt.backends.calculix import CalculixDeckWriter
from footdt.backends.inp import Dialect, build_deck, compile_deck, write_deck
from footdt.backends.inp.writer import fmt
from footdt.errors import ModelError, UnsupportedFeature
from footdt.ir import Connector, FixedDofs, NodalLoad, Phase, Pressure, Tie, replace
from footdt.spec.profile import options_for
from tests.factories import bar_model, inclusion_model

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _tokens(line: str) -> tuple[str, list[float]]:
    return _NUM.sub("#", line), [float(x) for x in _NUM.findall(line)]


def assert_deck_matches(
    text: str, name: str, golden_dir: Path = GOLDEN, update: bool | None = None
) -> None:
    """Compare with <golden_dir>/<name>: text equal, numbers within rtol 1e-9.

    FOOTDT_UPDATE_GOLDEN=1 rewrites the golden file instead (review the diff before committing).
    """
    path = golden_dir / name
    text = text.replace(f"footdt {footdt.__version__} ", "footdt <version> ")
    if update is None:
        update = os.environ.get("FOOTDT_UPDATE_GOLDEN") == "1"
    if update:
        path.write_text(text)
    golden = path.read_text().splitlines()
    lines = text.splitlines()
    assert len(lines) == len(golden), f"{name}: {len(lines)} lines, golden has {len(golden)}"
    for i, (new, old) in enumerate(zip(lines, golden, strict=True), 1):
        (t_new, n_new), (t_old, n_old) = _tokens(new), _tokens(old)
        assert t_new == t_old, f"{name}:{i}: {new!r} != golden {old!r}"
        np.testing.assert_allclose(n_new, n_old, rtol=1e-9, atol=1e-300, err_msg=f"{name}:{i}")


def _steps(text: str) -> list[str]:
    return re.findall(r"\*STEP.*?\*END STEP", text, flags=re.S)


def _data(block: str, card: str) -> list[str]:
    """Data lines under the keyword line ``card`` of ``block`` (up to the next keyword)."""
    lines = block.splitlines()
    start = lines.index(card) + 1
    out = []
    for ln in lines[start:]:
        if ln.startswith("*"):
            break
        out.append(ln)
    return out


@pytest.mark.parametrize("dialect", ["abaqus", "calculix"])
def test_golden_bar(dialect: Dialect) -> None:
    assert_deck_matches(write_deck(bar_model(), dialect), f"bar.{dialect}.inp")


@pytest.mark.parametrize("dialect", ["abaqus", "calculix"])
def test_golden_two_phases_tension_only(dialect: Dialect) -> None:
    model = inclusion_model(divisions=3, connector_law="tension_only")
    assert_deck_matches(write_deck(model, dialect), f"inclusion_tension.{dialect}.inp")


def test_golden_slip_ring_abaqus() -> None:
    assert_deck_matches(write_deck(_slip_ring_chain(), "abaqus"), "slip_ring.abaqus.inp")


def test_tolerant_diff_catches_changed_number(tmp_path: Path) -> None:
    text = write_deck(bar_model(), "abaqus")
    assert_deck_matches(text, "bar.inp", tmp_path, update=True)
    assert_deck_matches(
        text.replace("1000., 0.3", "1000.0000000001, 0.3"), "bar.inp", tmp_path, update=False
    )
    with pytest.raises(AssertionError):
        assert_deck_matches(
            text.replace("1000., 0.3", "1000.0001, 0.3"), "bar.inp", tmp_path, update=False
        )
    with pytest.raises(AssertionError):
        assert_deck_matches(text.replace("*STATIC", "*STATIK"), "bar.inp", tmp_path, update=False)


def test_header_states_provenance_and_units() -> None:
    model = bar_model()
    text = write_deck(model, "abaqus")
    head = text.split("*NODE")[0]
    assert footdt.__version__ in head and "spec hash: test" in head
    assert model.content_hash() in head and "mm" in head and "MPa" in head


@pytest.mark.parametrize("dialect", ["abaqus", "calculix"])
def test_every_step_restates_every_load_type(dialect: Dialect) -> None:
    text = write_deck(inclusion_model(divisions=3), dialect)
    steps = _steps(text)
    assert len(steps) == 2
    removal = "*DSLOAD, OP=NEW" if dialect == "abaqus" else "*DLOAD, OP=NEW"
    for step in steps:
        for card in ("*BOUNDARY, OP=NEW", "*CLOAD, OP=NEW", removal):
            assert step.count(card) == 1, (card, step[:200])
    press, shear = steps
    # phase 1 has a pressure and no forces, phase 2 the reverse: nothing leaks between them
    assert "zmin, P, 0.1" in press and "zmin, P" not in shear
    assert _data(press, "*CLOAD, OP=NEW") == []
    assert len(_data(shear, "*CLOAD, OP=NEW")) == len(
        inclusion_model(divisions=3).node_sets["xmax"]
    )
    assert _data(shear, removal) == [] and _data(press, "*BOUNDARY, OP=NEW") == _data(
        shear, "*BOUNDARY, OP=NEW"
    )


def test_calculix_dialect_never_writes_abaqus_only_keywords() -> None:
    for law in (None, "linear", "tension_only"):
        text = write_deck(inclusion_model(divisions=3, connector_law=law), "calculix").upper()
        keywords = "\n".join(ln for ln in text.splitlines() if not ln.startswith("**"))
        for word in ("CONN3D2", "ENCASTRE", "MISES", "*CONNECTOR", "SPRINGA", "NLGEOM"):
            assert word not in keywords


def test_no_deck_puts_connectors_into_nlgeom() -> None:
    model = inclusion_model(divisions=3, connector_law="tension_only")
    ccx = write_deck(model, "calculix")
    assert "NLGEOM" not in ccx and all(s.startswith("*STEP\n*STATIC") for s in _steps(ccx))
    abq = write_deck(model, "abaqus")
    assert all(s.startswith("*STEP, NAME=") and "NLGEOM=NO" in s for s in _steps(abq))
    assert "NLGEOM=YES" not in abq
    assert "*CONNECTOR ELASTICITY, NONLINEAR, COMPONENT=1" in abq and "EXTRAPOLATION=LINEAR" in abq


def _equation(text: str) -> list[tuple[int, int, float]]:
    lines = text.splitlines()
    i = lines.index("*EQUATION")
    n, out = int(lines[i + 1]), []
    for ln in lines[i + 2 :]:
        if ln.startswith("*"):
            break
        v = [x.strip() for x in ln.split(",")]
        out += [(int(v[j]), int(v[j + 1]), float(v[j + 2])) for j in range(0, len(v), 3)]
    assert len(out) == n
    return out


@pytest.mark.parametrize("law", ["linear", "tension_only"])
def test_calculix_connector_is_the_small_displacement_spring(law: str) -> None:
    """p dof 1 = n . (u_b - u_a) by *EQUATION, SPRING2 of stiffness k from p dof 1 to q dof 1."""
    model = inclusion_model(divisions=3, connector_law=law)
    c, N = model.connectors[0], model.n_nodes
    c = Connector(c.name, c.node_a, int(model.node_sets["zmax"][-1]), c.law, c.stiffness)  # oblique
    model = replace(model, connectors=(c,))
    text = write_deck(model, "calculix")
    assert "SPRINGA" not in text and "*ELEMENT, TYPE=SPRING2, ELSET=FOOTDT_CONN_1\n" in text
    lines = text.splitlines()
    i = lines.index("*ELEMENT, TYPE=SPRING2, ELSET=FOOTDT_CONN_1")
    assert lines[i + 1] == f"{model.n_elements + 1}, {N + 1}, {N + 2}"
    assert lines[i + 2 : i + 5] == ["*SPRING, ELSET=FOOTDT_CONN_1", "1, 1", "50."]
    d = model.nodes[c.node_b] - model.nodes[c.node_a]
    n = d / np.linalg.norm(d)
    eq = _equation(text)
    assert eq[0] == (N + 1, 1, 1.0)  # the dependent dof: the auxiliary node's dof 1
    coef = {(node, dof): v for node, dof, v in eq[1:]}
    expect = {(c.node_b + 1, k + 1): -n[k] for k in range(3)}
    expect.update({(c.node_a + 1, k + 1): n[k] for k in range(3)})
    assert coef.keys() == expect.keys()
    np.testing.assert_allclose([coef[k] for k in expect], list(expect.values()), rtol=1e-11)
    for step in _steps(text):  # p dofs 2-3 and q dofs 1-3 fixed in every step (all active)
        assert _data(step, "*BOUNDARY, OP=NEW")[-2:] == [f"{N + 1}, 2, 3, 0.", f"{N + 2}, 1, 3, 0."]


def test_calculix_equation_skips_zero_direction_cosines() -> None:
    model = inclusion_model(divisions=3, connector_law="linear")  # band along x
    c = model.connectors[0]
    eq = _equation(write_deck(model, "calculix"))
    assert eq == [(model.n_nodes + 1, 1, 1.0), (c.node_b + 1, 1, -1.0), (c.node_a + 1, 1, 1.0)]


def test_calculix_steps_switch_connectors_off_by_freeing_the_ground_node() -> None:
    model = inclusion_model(divisions=3, connector_law="tension_only")
    deck = build_deck(model)
    q = model.n_nodes + 2
    text = CalculixDeckWriter().write(deck, [(True,), (False,)])
    press, shear = _steps(text)
    assert f"{q}, 1, 3, 0." in _data(press, "*BOUNDARY, OP=NEW")
    assert f"{q}, 2, 3, 0." in _data(shear, "*BOUNDARY, OP=NEW")
    assert f"{q}, 1, 3, 0." not in shear and "switched off in this step: band" in text
    with pytest.raises(ValueError, match="one per step"):
        AbaqusDeckWriter().write(deck, [(True,), (False,)])


def _slip_ring_chain():
    model = inclusion_model(divisions=3)
    zmin = model.node_sets["zmin"]
    a, b, c = (int(n) for n in zmin[:3])
    conns = (
        Connector("fascia_1", a, b, "slip_ring", 200.0),
        Connector("fascia_2", b, c, "slip_ring", 200.0),
    )
    return replace(model, connectors=conns)


def test_slip_ring_is_abaqus_only() -> None:
    model = _slip_ring_chain()
    text = write_deck(model, "abaqus")
    assert text.count("SLIPRING,") == 2
    ends = {model.connectors[0].node_a + 1, model.connectors[1].node_b + 1}
    for step in _steps(text):
        fixed = {int(ln.split(",")[0]) for ln in step.splitlines() if ln.endswith(", 10, 10, 0.")}
        assert fixed == ends  # flow fixed at the belt ends, free at the shared ring node
    with pytest.raises(UnsupportedFeature, match="slip"):
        write_deck(model, "calculix")


def test_compile_deck_checks_capabilities_and_writes_files(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFeature, match=r"connector\.slip_ring"):
        compile_deck(_slip_ring_chain(), tmp_path / "ccx", "calculix")
    model = bar_model()
    files = compile_deck(model, tmp_path / "abq", "abaqus")
    assert set(files) == {"inp", "extract", "run"}
    assert (
        files["extract"].read_text()
        == (Path(footdt.__file__).parent / "backends" / "abaqus_extract.py").read_text()
    )
    assert model.content_hash() in files["run"].read_text() and os.access(files["run"], os.X_OK)
    files = compile_deck(
        model,
        tmp_path / "ccx",
        "calculix",
        options_for("calculix", linear_solver="iterative_cholesky"),
    )
    assert "*STATIC, SOLVER=ITERATIVE CHOLESKY" in files["inp"].read_text()


def test_boundary_runs_and_summed_forces() -> None:
    model = inclusion_model(divisions=3)
    n = len(model.node_sets["xmax"])
    loads = (NodalLoad("a", "xmax", np.ones((n, 3))), NodalLoad("b", "xmax", np.ones((n, 3))))
    fixed = (FixedDofs("f", "zmax", (2, 0)), FixedDofs("g", "zmax", (1,)))
    phase = Phase("p", nodal_loads=loads, fixed=fixed)
    step = build_deck(replace(model, phases=(phase,))).steps[0]
    assert [(b.first, b.last) for b in step.boundaries] == [(1, 1), (3, 3), (2, 2)]
    assert len(step.cloads) == 3 * n and all(f == 2.0 for *_, f in step.cloads)
    full = build_deck(model).steps[0]
    assert [(b.target, b.first, b.last) for b in full.boundaries] == [("zmax", 1, 3)]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: replace(m, parts={"matrix": m.parts["matrix"]}), "belong to no part"),
        (
            lambda m: replace(m, parts={**m.parts, "Matrix2": m.parts["matrix"][:1]}),
            "more than one part",
        ),
        (lambda m: replace(m, node_sets={**m.node_sets, "ZMIN": m.node_sets["zmin"]}), "same name"),
        (
            lambda m: replace(
                m, parts={"bad name": np.arange(m.n_elements)}, sections={"bad name": "soft"}
            ),
            "cannot be written",
        ),
        (
            lambda m: replace(
                m,
                phases=(
                    Phase(
                        "p", fixed=(FixedDofs("a", "zmax", (2,)), FixedDofs("b", "xmax", (2,), 0.1))
                    ),
                ),
            ),
            "prescribed both",
        ),
        (
            lambda m: replace(
                m,
                surfaces={**m.surfaces, "dup": m.surfaces["zmin"][:2]},
                phases=(Phase("p", pressures=(Pressure("zmin", 0.1), Pressure("dup", 0.2))),),
            ),
            "repeat an element face",
        ),
        (
            lambda m: replace(m, phases=(Phase("p", pressures=(Pressure("nowhere", 1.0),)),)),
            "unknown surface",
        ),
    ],
)
def test_inexpressible_models_are_errors(change, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        build_deck(change(inclusion_model(divisions=3)))


def test_numbers_fit_ccx_fields_and_round_trip() -> None:
    for x in (
        20.0,
        -0.0,
        1e-5,
        -1.2345678901234567e-100,
        1.2345678901234567e300,
        2.0 / 3.0,
        123456789.0,
    ):
        s = fmt(x)
        assert len(s) <= 20 and any(c in s for c in ".e")
        assert float(s) == pytest.approx(x, rel=1e-11, abs=0.0)


def test_tie_written_for_abaqus_refused_for_calculix() -> None:
    model = inclusion_model(divisions=3)
    surfaces = {
        **model.surfaces,
        "inner_a": model.surfaces["zmin"][:3],
        "inner_b": model.surfaces["xmin"][:3],
    }
    tied = replace(model, surfaces=surfaces, ties=(Tie("glue", "inner_a", "inner_b", 0.05),))
    lines = write_deck(tied, "abaqus").splitlines()
    i = lines.index("*TIE, NAME=glue, POSITION TOLERANCE=0.05, ADJUST=NO")
    assert lines[i + 1] == "inner_a, inner_b"
    with pytest.raises(UnsupportedFeature, match="tie 'glue'"):
        write_deck(tied, "calculix")
    with pytest.raises(ModelError, match="unknown surface"):
        build_deck(replace(model, ties=(Tie("glue", "nope", "zmin", 0.05),)))


def test_abaqus_requests_s_and_evol_on_solid_elements_only() -> None:
    """Connector elements have no S or EVOL: the element output requests name the solids' set."""
    text = write_deck(inclusion_model(divisions=3, connector_law="tension_only"), "abaqus")
    for step in _steps(text):
        requests = [ln for ln in step.splitlines() if ln.startswith("*ELEMENT OUTPUT")]
        assert requests == [
            "*ELEMENT OUTPUT, ELSET=FOOTDT_ALL_SOLIDS, POSITION=CENTROIDAL",
            "*ELEMENT OUTPUT, ELSET=FOOTDT_ALL_SOLIDS",
        ]
    assert "*ELEMENT, TYPE=C3D4, ELSET=FOOTDT_ALL_SOLIDS" in text


def test_tie_names_are_checked_like_every_name() -> None:
    model = inclusion_model(divisions=3)
    surfaces = {**model.surfaces, "a": model.surfaces["zmin"][:3], "b": model.surfaces["xmin"][:3]}
    for bad in ("glue tie", "FOOTDT_TIE", "9glue"):
        tied = replace(model, surfaces=surfaces, ties=(Tie(bad, "a", "b", 0.05),))
        with pytest.raises(ModelError, match=f"tie name '{bad}' cannot be written"):
            write_deck(tied, "abaqus")


def test_slip_ring_segments_must_run_one_way() -> None:
    """Abaqus SLIPRING: material flows in at node a and out at node b, so a belt's segments must
    chain a -> b, a -> b. A reversed segment (both segments ending at the shared node) is refused."""
    model = _slip_ring_chain()
    first, second = model.connectors
    flipped = Connector(second.name, second.node_b, second.node_a, "slip_ring", second.stiffness)
    with pytest.raises(ModelError, match="fascia_1 and fascia_2 both end at node"):
        write_deck(replace(model, connectors=(first, flipped)), "abaqus")
    flipped = Connector(first.name, first.node_b, first.node_a, "slip_ring", first.stiffness)
    with pytest.raises(ModelError, match="both start at node"):
        write_deck(replace(model, connectors=(flipped, second)), "abaqus")


def test_surfaces_and_parts_share_one_namespace() -> None:
    model = inclusion_model(divisions=3)
    clash = replace(model, surfaces={**model.surfaces, "MATRIX": model.surfaces["zmin"][:2]})
    for dialect in ("abaqus", "calculix"):
        with pytest.raises(ModelError, match="surface 'MATRIX' and part 'matrix'"):
            write_deck(clash, dialect)  # type: ignore[arg-type]


@pytest.mark.slow
def test_template_abaqus_deck_passes_the_checks(tmp_path: Path) -> None:
    """The foot template's Abaqus deck: valid names and sets, S/EVOL on the solids, the run script
    extracting exactly its 16 parts with ask_delete=OFF."""
    from footdt.compile import compile_spec
    from footdt.spec.loader import load_spec

    spec = Path(__file__).resolve().parents[2] / "specs" / "subjects" / "template.yaml"
    model = compile_spec(load_spec(spec))
    files = compile_deck(model, tmp_path, "abaqus")
    text = files["inp"].read_text()
    assert text.count("*ELEMENT OUTPUT, ELSET=FOOTDT_ALL_SOLIDS") == 2 * len(model.phases)
    assert "*ELEMENT OUTPUT\n" not in text and "*ELEMENT OUTPUT, POSITION" not in text
    run = files["run"].read_text()
    assert "ask_delete=OFF" in run and f"{model.content_hash()} {','.join(model.parts)}" in run
    assert len(model.parts) == 16 and all(f"*ELSET, ELSET={p}\n" in text for p in model.parts)
