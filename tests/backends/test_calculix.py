"""CalculiX backend: contract on the bar, C3D10, phase independence, exact small-displacement
connectors and the tension-only active set (against SfePy too), .dat parsing."""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import replace as dc_replace
from pathlib import Path

import numpy as np
import pytest

from footdt.backends.calculix import CalculixBackend, CalculixDeckWriter, CalculixOptions
from footdt.backends.ccx_dat import parse_dat
from footdt.errors import BackendUnavailable, FootdtError, ModelError, SolveError
from footdt.ir import AnalysisModel, Connector, FixedDofs, NodalLoad, Phase, Pressure, replace
from footdt.mechanics import tet_volumes
from tests.factories import bar_model, inclusion_model

needs_ccx = pytest.mark.needs_ccx
needs_sfepy = pytest.mark.skipif(importlib.util.find_spec("sfepy") is None, reason="needs sfepy")


def _solve(model: AnalysisModel, tmp_path: Path, name: str = "run", **profile):
    prof = CalculixOptions(**profile) if profile else None
    return CalculixBackend().solve(model, tmp_path / name, prof)


def _tetra10(model: AnalysisModel) -> AnalysisModel:
    """The same mesh with mid-side nodes (Abaqus/meshio order: edges 01, 12, 20, 03, 13, 23)."""
    edges = [(0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)]
    pairs = np.sort(np.concatenate([model.elements[:, e] for e in edges]), axis=1)
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    mids = model.nodes[uniq].mean(axis=1)
    mid_ids = (model.n_nodes + inverse.ravel()).reshape(6, -1).T
    nodes = np.vstack([model.nodes, mids])
    elements = np.hstack([model.elements, mid_ids])
    node_sets = {}
    for name, surf in model.surfaces.items():
        node_sets[name] = np.unique(
            np.concatenate([model.node_sets[name], _face_mids(elements, surf)])
        )
    return replace(model, nodes=nodes, elements=elements, cell_type="tetra10", node_sets=node_sets)


def _face_mids(elements: np.ndarray, surf: np.ndarray) -> np.ndarray:
    from footdt.ir import TET10_FACE_MIDSIDES

    return np.take_along_axis(
        elements[surf[:, 0]], np.asarray(TET10_FACE_MIDSIDES)[surf[:, 1]], axis=1
    ).ravel()


@needs_ccx
@pytest.mark.parametrize("cell", ["tetra", "tetra10"])
def test_contract_bar_uniform_compression(tmp_path: Path, cell: str) -> None:
    p, E, L, area = 2.0, 1000.0, 20.0, 16.0
    model = bar_model(pressure=p, E=E)
    model = model if cell == "tetra" else _tetra10(model)
    result = _solve(model, tmp_path)
    ph = result.phases["load"]
    assert result.backend == "calculix" and result.model_hash == model.content_hash()
    np.testing.assert_allclose(ph.stress[:, 0], -p, rtol=1e-6)
    np.testing.assert_allclose(ph.stress[:, 1:], 0.0, atol=1e-6 * p)
    np.testing.assert_allclose(ph.von_mises, p, rtol=1e-6)
    np.testing.assert_allclose(ph.reaction, [p * area, 0.0, 0.0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        result.element_volume, tet_volumes(model.nodes, model.elements), rtol=1e-6
    )
    xmax = np.isclose(model.nodes[:, 0], L)
    np.testing.assert_allclose(ph.displacement[xmax, 0], -p * L / E, rtol=1e-6)


@needs_ccx
def test_iterative_solver_profile_and_threads(tmp_path: Path) -> None:
    result = _solve(bar_model(), tmp_path, linear_solver="iterative_cholesky", threads=1)
    # ccx's CG stops at a hard-coded relative tolerance of 1e-4 (src/preiter.c): ~1e-3 in stress
    np.testing.assert_allclose(result.phases["load"].stress[:, 0], -2.0, rtol=5e-3)
    assert result.info["linear_solver"] == "ITERATIVE CHOLESKY"
    assert "SOLVER=ITERATIVE CHOLESKY" in (tmp_path / "run" / "footdt.inp").read_text()


def test_non_calculix_solver_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(
        FootdtError,
        match="'pardiso' is not a calculix linear solver; use one of default, spooles, iterative_cholesky",
    ):
        CalculixBackend().options(linear_solver="pardiso")


def _max_diff(a, b) -> float:
    return max(float(np.abs(a.phases[k].stress - b.phases[k].stress).max()) for k in b.phases)


@needs_ccx
def test_phases_are_independent_load_cases(tmp_path: Path) -> None:
    model = inclusion_model()
    both = _solve(model, tmp_path, "both")
    for i, phase in enumerate(model.phases):
        alone = _solve(replace(model, phases=(phase,)), tmp_path, f"alone{i}")
        assert _max_diff(both, alone) <= 1e-9 * float(np.abs(alone.phases[phase.name].stress).max())
        np.testing.assert_allclose(
            both.phases[phase.name].displacement, alone.phases[phase.name].displacement
        )
    # the same deck without OP=NEW leaks phase 1's pressure into phase 2 (so the check above can fail)
    backend = CalculixBackend()
    job = backend.prepare(model, tmp_path / "leaky", CalculixOptions())
    inp = job.files["inp"]
    inp.write_text(inp.read_text().replace(", OP=NEW", "").replace("*DLOAD\n", ""))
    leaky = backend.extract(job, backend.run(job))
    alone = _solve(replace(model, phases=(model.phases[1],)), tmp_path, "alone_shear")
    assert _max_diff(leaky, alone) > 1e-3


def _elongation(model: AnalysisModel, u: np.ndarray) -> float:
    """Small-displacement elongation n . (u_b - u_a) (mm) of the model's connector."""
    c = model.connectors[0]
    d = model.nodes[c.node_b] - model.nodes[c.node_a]
    return float(d @ (u[c.node_b] - u[c.node_a]) / np.linalg.norm(d))


def _scaled(model: AnalysisModel, scale: float) -> AnalysisModel:
    """``model`` with every pressure and nodal force of every phase times ``scale``."""
    phases = tuple(
        dc_replace(
            ph,
            pressures=tuple(dc_replace(p, value=p.value * scale) for p in ph.pressures),
            nodal_loads=tuple(
                dc_replace(ld, forces=np.asarray(ld.forces) * scale) for ld in ph.nodal_loads
            ),
        )
        for ph in model.phases
    )
    return replace(model, phases=phases)


def _close(a, b, rtol: float, phases: tuple[str, ...] = ("press", "shear")) -> bool:
    """Every element's stress within ``rtol`` of the phase's largest stress, in ``phases``."""
    return all(
        float(np.abs(a.phases[k].stress - b.phases[k].stress).max())
        <= rtol * float(np.abs(b.phases[k].stress).max())
        for k in phases
    )


@needs_ccx
def test_tension_only_band_is_slack_in_compression_and_linear_in_tension(tmp_path: Path) -> None:
    free = _solve(inclusion_model(), tmp_path, "free")  # no band at all
    lin_model, to_model = (
        inclusion_model(connector_law="linear"),
        inclusion_model(connector_law="tension_only"),
    )
    lin, to = _solve(lin_model, tmp_path, "linear"), _solve(to_model, tmp_path, "tension")
    e = {
        (name, ph): _elongation(lin_model, r.phases[ph].displacement)
        for name, r in (("free", free), ("linear", lin), ("tension", to))
        for ph in ("press", "shear")
    }
    # press stretches the band: the tension-only band is the linear band, exactly
    assert e["free", "press"] > 0 and e["linear", "press"] < 0.5 * e["free", "press"]
    assert to.info["active_set"]["press"] == ["band"]
    assert _close(to, lin, 1e-6, ("press",))
    # shear shortens the band: the linear band pushes back (compression k * e < 0) ...
    assert e["free", "shear"] < 0 and e["linear", "shear"] > 0.5 * e["free", "shear"]
    assert 50.0 * e["linear", "shear"] < -0.05  # N, compressive force carried by the linear band
    # ... the tension-only band goes slack: the structure is the model without a band
    assert to.info["active_set"]["shear"] == [] and to.info["active_set_solves"]["shear"] == 2
    assert _close(to, free, 1e-6, ("shear",))
    assert not _close(lin, free, 1e-3)  # the band matters, so the checks above can fail
    assert to.info["ccx_runs"] == 2 and lin.info["ccx_runs"] == 1
    assert "NLGEOM" not in (tmp_path / "tension" / "footdt_as2.inp").read_text()


@needs_ccx
def test_active_set_limit_is_a_solve_error(tmp_path: Path) -> None:
    with pytest.raises(SolveError, match="'shear'.*no stable active set in 1 solves"):
        _solve(inclusion_model(connector_law="tension_only"), tmp_path,
               max_active_set_iterations=1)  # fmt: skip


@needs_ccx
@needs_sfepy
@pytest.mark.parametrize(
    ("law", "scale"), [("linear", 1.0), ("linear", 10.0), ("tension_only", 1.0)]
)
def test_connectors_agree_with_sfepy_at_any_load(tmp_path: Path, law: str, scale: float) -> None:
    """Both backends use the small-displacement spring k n n^T: the same linear system, so every
    element's von Mises agrees to ccx's 7 printed digits at any load (a spring following the
    deformed axis, like SPRINGA, differed by 6e-4 at scale 1 and 6e-3 at scale 10)."""
    from footdt.backends.sfepy import SfepyBackend

    model = _scaled(inclusion_model(divisions=8, connector_law=law), scale)
    ccx = _solve(model, tmp_path, "ccx")
    ref = SfepyBackend().solve(model, tmp_path / "sfepy")
    for name, ph in ref.phases.items():
        got = ccx.phases[name]
        np.testing.assert_allclose(got.von_mises, ph.von_mises, rtol=1e-5, atol=0.0)
        np.testing.assert_allclose(got.reaction, ph.reaction, rtol=0, atol=1e-6 * scale * 10.0)
    if law == "tension_only":
        assert ccx.info["active_set"] == ref.info["active_set"]


@needs_ccx
def test_reaction_includes_the_force_of_a_connector_at_a_support(tmp_path: Path) -> None:
    """ccx's RF leaves out forces carried through *EQUATION: a band tied to the fixed face must
    still give reactions that balance the 10 N pressure load."""
    model = inclusion_model(divisions=4)
    zmax, zmin = model.node_sets["zmax"], model.node_sets["zmin"]
    band = Connector("band", int(zmin[3]), int(zmax[len(zmax) // 2]), "linear", 500.0)
    result = _solve(replace(model, connectors=(band,)), tmp_path)
    np.testing.assert_allclose(result.phases["press"].reaction, [0.0, 0.0, -10.0], atol=1e-5)
    np.testing.assert_allclose(result.phases["shear"].reaction, [0.0, 0.0, 5.0], atol=1e-5)


@needs_ccx
def test_tension_only_steps_are_independent(tmp_path: Path) -> None:
    model = inclusion_model(connector_law="tension_only")
    both = _solve(model, tmp_path, "both")
    alone = _solve(replace(model, phases=(model.phases[1],)), tmp_path, "alone")
    assert _max_diff(both, alone) <= 1e-6 * float(np.abs(alone.phases["shear"].stress).max())


@needs_ccx
def test_ccx_failure_is_a_solve_error_with_the_error_line(tmp_path: Path) -> None:
    backend = CalculixBackend()
    job = backend.prepare(bar_model(), tmp_path / "bad", CalculixOptions())
    inp = job.files["inp"]
    inp.write_text(
        inp.read_text().replace(
            "*SOLID SECTION, ELSET=body, MATERIAL=mat",
            "*SOLID SECTION, ELSET=body, MATERIAL=nothere",
        )
    )
    with pytest.raises(SolveError, match=r"\*ERROR.*log: .*footdt\.log"):
        backend.run(job)


def test_empty_results_file_is_an_error(tmp_path: Path) -> None:
    """A ccx that exits cleanly but prints no results is an error, never zeros."""
    fake = tmp_path / "fake-ccx"
    fake.write_text('#!/bin/sh\n: > "$2.dat"\n')  # ccx -i JOB
    fake.chmod(0o755)
    backend = CalculixBackend()
    job = backend.prepare(bar_model(), tmp_path / "w", CalculixOptions(executable=str(fake)))
    with pytest.raises(SolveError, match="no stress or volume output"):
        backend.run(job)


def test_unavailable_and_missing_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    avail = CalculixBackend().availability()
    assert not avail and "ccx not found: apt-get install calculix-ccx" in avail.reason
    prof = CalculixOptions(executable=str(tmp_path / "nope"))
    with pytest.raises(BackendUnavailable, match="not found"):
        CalculixBackend().solve(bar_model(), tmp_path / "w", prof)


@needs_ccx
def test_profile_executable_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ccx = shutil.which("ccx")
    assert ccx is not None
    monkeypatch.setenv("PATH", str(tmp_path))  # not on PATH: only the profile can point to it
    result = _solve(bar_model(), tmp_path, executable=ccx)
    assert result.backend_version[0].isdigit()


def test_parse_dat_handles_steps_sets_and_fortran_numbers() -> None:
    text = """
 stresses (elem, integ.pnt.,sxx,syy,szz,sxy,sxz,syz) for set MATRIX and time  0.1000000E+01

         7   1 -2.000000E+00-1.887379E-15 1.0E-100 3.000000-100  0.000000E+00  1.500000E+02
         7   2 -4.000000E+00  1.0  0.0  0.0  0.0  0.0

 volume (element, volume) for set MATRIX and time  0.1000000E+01

         7  2.666667E+00
 some text line ends nothing important

 displacements (vx,vy,vz) for set FOOTDT_ALL_NODES and time  0.2000000E+01

         1  1.0E+00  2.0E+00  3.0E+00
"""
    blocks = parse_dat(text)
    assert [(b.kind, b.set, b.time) for b in blocks] == [
        ("stresses", "MATRIX", 1.0),
        ("volume", "MATRIX", 1.0),
        ("displacements", "FOOTDT_ALL_NODES", 2.0),
    ]
    row = blocks[0].rows[0]
    assert row[:4] == [7, 1, -2.0, -1.887379e-15] and row[4] == 1e-100 and row[5] == 3e-100
    assert row[7] == 150.0 and len(blocks[0].rows) == 2 and blocks[1].rows == [[7, 2.666667]]


@needs_ccx
def test_prescribed_displacement_and_nodal_forces(tmp_path: Path) -> None:
    """xmax pushed by -0.02 mm (sigma_xx = -E d / L), then pulled by nodal forces summing to 8 N."""
    E, L, d, area = 1000.0, 20.0, 0.02, 16.0
    model = bar_model(E=E)
    rollers = model.phases[0].fixed
    xmax = model.node_sets["xmax"]
    # consistent nodal forces of a uniform traction on the xmax face: area/3 per face corner
    from footdt.ir import TET_FACES

    faces = model.surfaces["xmax"]
    tri = np.take_along_axis(
        model.elements[faces[:, 0]], np.asarray(TET_FACES)[faces[:, 1]], axis=1
    )
    weights = np.zeros(model.n_nodes)
    np.add.at(weights, tri.ravel(), np.repeat(area / len(faces) / 3.0, tri.size))
    traction = 0.5  # MPa, 8 N over the 16 mm^2 face
    forces = np.zeros((len(xmax), 3))
    forces[:, 0] = traction * weights[xmax]
    phases = (
        Phase("push", fixed=(*rollers, FixedDofs("push", "xmax", (0,), -d))),
        Phase("pull", nodal_loads=(NodalLoad("pull", "xmax", forces),), fixed=rollers),
    )
    result = _solve(replace(model, phases=phases), tmp_path)
    push, pull = result.phases["push"], result.phases["pull"]
    assert push.stress is not None and pull.stress is not None
    np.testing.assert_allclose(push.stress[:, 0], -E * d / L, rtol=1e-6)
    np.testing.assert_allclose(
        push.reaction, [0.0, 0.0, 0.0], atol=1e-9
    )  # xmin and xmax reactions cancel
    np.testing.assert_allclose(pull.stress[:, 0], traction, rtol=1e-6)
    np.testing.assert_allclose(pull.reaction, [-traction * area, 0.0, 0.0], rtol=1e-6, atol=1e-9)


def _ccx_bar_with_load_surface_named(name: str, tmp_path: Path) -> np.ndarray:
    """xx stress of the bar (2 MPa on xmax) when its load surface is called ``name`` in the
    CalculiX deck (written past ``ir.validate``, to show what ccx itself does)."""
    import subprocess

    from footdt.backends.inp import build_deck

    deck = build_deck(bar_model(pressure=2.0))
    surfaces = {(name if k == "xmax" else k): v for k, v in deck.surfaces.items()}
    steps = tuple(
        dc_replace(s, pressures=tuple((name if n == "xmax" else n, v) for n, v in s.pressures))
        for s in deck.steps
    )
    work = tmp_path / name
    work.mkdir()
    (work / "footdt.inp").write_text(
        CalculixDeckWriter().write(dc_replace(deck, surfaces=surfaces, steps=steps))
    )
    proc = subprocess.run(["ccx", "-i", "footdt"], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0 and "*ERROR" not in proc.stdout
    blocks = [b for b in parse_dat((work / "footdt.dat").read_text()) if b.kind == "stresses"]
    return np.asarray(blocks[-1].rows)[:, 2]


@needs_ccx
def test_a_surface_named_like_a_part_loads_nothing_in_ccx(tmp_path: Path) -> None:
    """ccx's *DSLOAD looks a name up as an element set before a surface (dloads.f): a surface
    named like a part is read as the part's elements without a face, and the bar carries no
    load, without an error or warning. So ir.validate keeps parts and surfaces in one namespace."""
    np.testing.assert_allclose(
        _ccx_bar_with_load_surface_named("LOADED", tmp_path), -2.0, rtol=1e-6
    )
    np.testing.assert_allclose(_ccx_bar_with_load_surface_named("BODY", tmp_path), 0.0, atol=1e-12)
    model = bar_model(pressure=2.0)
    renamed = {("Body" if k == "xmax" else k): v for k, v in model.surfaces.items()}
    phase = Phase("load", pressures=(Pressure("Body", 2.0),), fixed=model.phases[0].fixed)
    with pytest.raises(ModelError, match="surface 'Body' and part 'body' are the same name"):
        CalculixBackend().solve(replace(model, surfaces=renamed, phases=(phase,)), tmp_path / "x")
