"""`footdt validate | schema | compile | solve` through the real CLI: exit codes and one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footdt.cli.app import app
from tests.conftest import SPECS
from tests.spec.test_loader import BAR

runner = CliRunner()
BAR_SPEC = SPECS / "verification" / "bar_compression.yaml"


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def _one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_validate_ok() -> None:
    result = _run(
        "validate",
        *sorted((SPECS / "verification").glob("*.yaml")),
        *Path("solvers").glob("*.toml"),
    )
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_validate_json_reports_each_file(write_spec) -> None:
    bad = write_spec(BAR.replace("nu: 0.3", "nu: 0.7"))
    result = _run("validate", BAR_SPEC, bad, "--json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert [d["ok"] for d in data] == [True, False]
    assert "materials.steel.nu" in data[1]["error"]


def test_schema_has_units(tmp_path) -> None:
    out = tmp_path / "s.json"
    assert _run("schema", "--out", out).exit_code == 0
    text = out.read_text()
    assert '"unit": "MPa"' in text and '"unit": "mm"' in text


def test_unknown_key_one_line(write_spec) -> None:
    line = _one_line_error(
        _run("compile", write_spec(BAR.replace("id: bar", "id: bar\ncolour: red")), "--out", "x")
    )
    assert "spec.yaml:3: colour: unknown key" in line


def test_no_bc_one_line(write_spec, tmp_path) -> None:
    spec = write_spec(BAR.replace("boundary_conditions:\n  - {on: xmin, dofs: [x, y, z]}\n", ""))
    line = _one_line_error(_run("compile", spec, "--backend", "calculix", "--out", tmp_path / "o"))
    assert "can move as a rigid body" in line


def test_unsupported_feature_names_other_backends(write_spec, tmp_path) -> None:
    text = BAR + (
        "landmarks:\n  a: [0.0, 0.0, 0.0]\n  b: [10.0, 2.0, 2.0]\n"
        "connectors:\n  - {name: band, a: {landmark: a}, b: {landmark: b}, stiffness: 10, law: slip_ring}\n"
    )
    line = _one_line_error(
        _run("compile", write_spec(text), "--backend", "calculix", "--out", tmp_path / "o")
    )
    assert "connector.slip_ring" in line and "abaqus" in line


def test_compile_deck_then_solve_dir_with_corrupted_model(tmp_path) -> None:
    out = tmp_path / "bar"
    result = _run("compile", BAR_SPEC, "--backend", "calculix", "--out", out)
    assert result.exit_code == 0, result.output
    assert (out / "model.json").exists() and any(out.glob("*.inp"))
    (out / "arrays.npz").write_bytes(b"garbage")
    line = _one_line_error(_run("solve", out, "--backend", "sfepy", "--store", tmp_path / "l.db"))
    assert "cannot read the model" in line


def test_missing_ccx_gives_install_hint(tmp_path, monkeypatch) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('backend = "calculix"\nexecutable = "/nonexistent/ccx"\n')
    line = _one_line_error(
        _run(
            "solve",
            BAR_SPEC,
            "--backend",
            "calculix",
            "--profile",
            profile,
            "--store",
            tmp_path / "l.db",
        )
    )
    assert "calculix-ccx" in line


def test_unknown_backend(tmp_path) -> None:
    line = _one_line_error(
        _run("solve", BAR_SPEC, "--backend", "ansys", "--store", tmp_path / "l.db")
    )
    assert "unknown backend 'ansys'" in line


@pytest.mark.skipif(shutil.which("ccx") is None, reason="ccx not installed")
def test_solve_both_backends_and_compare(tmp_path) -> None:
    store = tmp_path / "labels.db"
    out = tmp_path / "bar"
    assert _run("compile", BAR_SPEC, "--backend", "calculix", "--out", out).exit_code == 0
    r1 = _run("solve", out, "--backend", "sfepy", "--store", store)
    assert r1.exit_code == 0, r1.output
    r2 = _run("solve", out, "--backend", "calculix", "--store", store, "--json")
    assert r2.exit_code == 0, r2.output
    rows = json.loads(r2.stdout)
    assert {r["stat"] for r in rows} == {"mean", "p95", "p99", "max"}
    assert all(abs(r["value_mpa"] - 20.0) < 1e-3 for r in rows)
    cmp = _run("labels", "compare", "--store", store, "sfepy", "calculix", "--rtol", "0.001")
    assert cmp.exit_code == 0, cmp.output


def test_too_fine_foot_mesh_refused_with_estimate(tmp_path) -> None:
    template = SPECS / "subjects" / "template.yaml"
    line = _one_line_error(_run("mesh", template, "--out", tmp_path / "m", "--size", "0.2"))
    assert "template.yaml:11: mesh size 0.2 mm is too fine" in line and "GB" in line
    assert not (tmp_path / "m").exists()


def test_mesh_quality_report_and_convergence_study(tmp_path) -> None:
    spec = SPECS / "verification" / "two_material_block.yaml"
    result = _run("mesh", spec, "--out", tmp_path / "m", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["quality"]["overall"]["inverted"] == 0
    assert (tmp_path / "m" / "mesh.vtu").exists() and (tmp_path / "m" / "model.json").exists()
    study = _run("mesh", spec, "--out", tmp_path / "c", "--convergence", "8,5", "--json")
    assert study.exit_code == 0, study.output
    data = json.loads(study.stdout)
    assert [m["size_mm"] for m in data["meshes"]] == [8.0, 5.0]
    assert data["meshes"][1]["nodes"] > data["meshes"][0]["nodes"]
    means = {
        (r["size_mm"], r["phase"], r["bone"]): r["value_mpa"]
        for r in data["rows"]
        if r["stat"] == "mean"
    }
    # the volume-weighted mean of the stiff inclusion changes little between the two meshes
    a, b = means[(8.0, "press", "inclusion")], means[(5.0, "press", "inclusion")]
    assert abs(a - b) / b < 0.2
    assert (tmp_path / "c" / "convergence.csv").exists() and (
        tmp_path / "c" / "convergence.png"
    ).exists()


def test_validate_knows_cohort_specs() -> None:
    result = _run("validate", SPECS / "cohorts" / "demo.yaml")
    assert result.exit_code == 0, result.output
    assert "cohort 'demo'" in result.output


def test_verbose_shows_the_cause_of_an_error(tmp_path) -> None:
    out = tmp_path / "bar"
    assert _run("compile", BAR_SPEC, "--backend", "sfepy", "--out", out).exit_code == 0
    (out / "model.json").write_text("{not json")
    quiet = _one_line_error(_run("solve", out, "--store", tmp_path / "l.db"))
    assert "cannot read the model" in quiet and "caused by" not in quiet
    loud = _run("--verbose", "solve", out, "--store", tmp_path / "l.db")
    assert loud.exit_code != 0 and "Traceback" not in loud.output
    lines = [ln for ln in loud.output.splitlines() if ln.strip()]
    assert "cannot read the model" in lines[0]
    assert any("caused by: json.decoder.JSONDecodeError" in ln for ln in lines[1:]), loud.output


def test_compile_calculix_after_abaqus_into_one_folder(tmp_path) -> None:
    """The Abaqus scripts must not stay behind next to a CalculiX footdt.inp they would run."""
    out = tmp_path / "bar"
    assert _run("compile", BAR_SPEC, "--backend", "abaqus", "--out", out).exit_code == 0
    assert (out / "run_abaqus.sh").is_file() and (out / "abaqus_extract.py").is_file()
    result = _run("compile", BAR_SPEC, "--backend", "calculix", "--out", out)
    assert result.exit_code == 0, result.output
    assert "calculix dialect" in (out / "footdt.inp").read_text().splitlines()[0]
    assert not (out / "run_abaqus.sh").exists() and not (out / "abaqus_extract.py").exists()
    assert "removed" in result.output and "run_abaqus.sh" in result.output
    assert _run("compile", BAR_SPEC, "--backend", "abaqus", "--out", out).exit_code == 0
    assert "abaqus dialect" in (out / "footdt.inp").read_text().splitlines()[0]
    assert (out / "run_abaqus.sh").is_file()


def test_solve_writes_a_pvd_per_trial_and_view_refuses_a_vtu(tmp_path) -> None:
    out = tmp_path / "bar"
    assert _run("compile", BAR_SPEC, "--backend", "sfepy", "--out", out).exit_code == 0
    result = _run("solve", out, "--backend", "sfepy", "--store", tmp_path / "l.db")
    assert result.exit_code == 0, result.output
    assert (out / "sfepy.pvd").is_file() and (out / "sfepy.loaded.vtu").is_file()
    assert "sfepy.pvd" in result.output
    line = _one_line_error(_run("view", out, "--phase", "loaded", "--out", tmp_path / "s.vtu"))
    assert "s.vtu: footdt view draws a picture" in line and "sfepy.pvd" not in line
    assert "BACKEND.pvd" in line
    assert not (tmp_path / "s.vtu").exists()
    ok = _run("view", out, "--phase", "loaded", "--out", tmp_path / "s.svg")
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "s.svg").read_text().lstrip().startswith("<?xml")


def test_causes_follow_from_and_from_none() -> None:
    """``raise X from err`` and ``raise X from None`` alike: --verbose shows what was handled."""
    from footdt.cli.common import causes
    from footdt.errors import FootdtError

    def wrapped(suppress: bool) -> FootdtError:
        try:
            try:
                int("x")
            except ValueError as exc:
                raise KeyError("k") from exc
        except KeyError as exc:
            err = FootdtError("outer")
            try:
                if suppress:
                    raise err from None
                raise err from exc
            except FootdtError as got:
                return got
        raise AssertionError

    for suppress in (False, True):
        lines = causes(wrapped(suppress))
        assert lines[0] == "KeyError: 'k'" and lines[1].startswith("ValueError: invalid literal")


def test_solve_into_a_read_only_store_refuses_before_solving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import footdt.labels.schema as schema
    from footdt.backends.sfepy import SfepyBackend

    store = tmp_path / "l.db"
    sqlite3_connect = __import__("sqlite3").connect
    sqlite3_connect(store).close()  # an (empty) SQLite file exists
    monkeypatch.setattr(schema, "writable", lambda _p: False)

    def never(*_a: object, **_k: object) -> None:
        raise AssertionError("the solve ran")

    monkeypatch.setattr(SfepyBackend, "solve", never)
    line = _one_line_error(_run("solve", BAR_SPEC, "--store", store, "--workdir", tmp_path / "w"))
    assert "is read-only" in line and "pass --store" in line


def test_full_work_directory_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import footdt.results as results

    def full(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "w" / "results.npz"))

    monkeypatch.setattr(results, "save_result", full)
    line = _one_line_error(
        _run("solve", BAR_SPEC, "--store", tmp_path / "l.db", "--workdir", tmp_path / "w")
    )
    assert "No space left on device" in line and "the disk is full" in line


def test_compile_and_solve_print_paths_with_brackets_literally(tmp_path: Path) -> None:
    """Output paths go out as plain text, not rich markup: `[/]` is no closing tag (it was a
    MarkupError traceback) and `[bold]x[/bold]` stays as it is (it was printed as `x`)."""
    out = tmp_path / "x [/]"
    store = tmp_path / "l [bold]x[/bold].db"
    first = _run("compile", BAR_SPEC, "--backend", "abaqus", "--out", out)
    assert first.exit_code == 0, first.output
    result = _run("compile", BAR_SPEC, "--backend", "calculix", "--out", out)
    assert result.exit_code == 0, result.output
    flat = result.output.replace("\n", "")
    assert f"-> {out}" in flat and f"  {out / 'footdt.inp'}" in flat
    assert f"removed {out / 'run_abaqus.sh'}" in flat
    solved = _run("solve", out, "--backend", "sfepy", "--store", store)
    assert solved.exit_code == 0, solved.output
    flat = solved.output.replace("\n", "")
    assert f"in {store}" in flat and f"results: {out / 'results.sfepy.npz'}" in flat
    assert f"ParaView: {out / 'sfepy.pvd'}" in flat
