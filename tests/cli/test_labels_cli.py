"""`footdt labels ...` through typer's CliRunner: JSON keys, exit codes, one-line errors."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from footdt.cli.labels import app
from footdt.ir import AnalysisModel, save_model
from footdt.labels import LabelRow
from footdt.labels.reduce import LABEL_FIELDS
from footdt.labels.store import LabelStore
from footdt.results import PhaseResult, SolveResult
from tests.factories import inclusion_model

runner = CliRunner()


def row(bone: str, stat: str, value: float, backend: str) -> LabelRow:
    return LabelRow(
        subject="s1",
        trial="1",
        phase="push_off",
        bone=bone,
        stat=stat,
        value_mpa=value,
        backend=backend,
        backend_version="9",
        spec_hash="sp",
        mesh_hash="me",
        model_hash="mo",
        solve_id=f"id-{backend}",
        wall_time_s=3.0,
        residual=1e-10,
        max_on_boundary=True,
        created_at="2025-01-01T00:00:00+00:00",
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "labels.db"
    with LabelStore(path) as st:
        st.put(
            [
                row("metatarsal_2", "mean", 20.0, "calculix"),
                row("metatarsal_2", "p99", 60.0, "calculix"),
            ]
        )
        st.put(
            [row("metatarsal_2", "mean", 20.1, "sfepy"), row("metatarsal_2", "p99", 61.5, "sfepy")]
        )
    return str(path)


def one_line_error(result: object) -> str:
    err = result.stderr.strip()  # type: ignore[attr-defined]
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in result.output  # type: ignore[attr-defined]
    return err


def test_show_json_keys(db: str) -> None:
    res = runner.invoke(app, ["show", "--store", db, "--json", "--backend", "sfepy"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert len(data) == 2
    assert list(data[0]) == list(LABEL_FIELDS)
    assert list(data[0])[:7] == [
        "subject",
        "trial",
        "phase",
        "bone",
        "stat",
        "value_mpa",
        "backend",
    ]
    assert {d["value_mpa"] for d in data} == {20.1, 61.5}
    res = runner.invoke(app, ["show", "--store", db, "--json", "--stat", "p99"])
    assert [d["backend"] for d in json.loads(res.stdout)] == ["calculix", "sfepy"]


def test_show_table(db: str) -> None:
    res = runner.invoke(app, ["show", "--store", db])
    assert res.exit_code == 0 and "metatarsal_2" in res.stdout and "61.5" in res.stdout


def test_compare_exit_codes(db: str) -> None:
    ok = runner.invoke(app, ["compare", "sfepy", "calculix", "--store", db, "--rtol", "0.03"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["compare", "sfepy", "calculix", "--store", db, "--rtol", "0.01"])
    assert bad.exit_code == 1
    assert "1 of 2 labels differ beyond tolerance" in one_line_error(bad)
    assert "push_off.metatarsal_2.p99" in bad.stderr
    per_stat = ["--rtol", "0.01", "--rtol-stat", "p99=0.03"]
    assert (
        runner.invoke(app, ["compare", "sfepy", "calculix", "--store", db, *per_stat]).exit_code
        == 0
    )


def test_compare_json_and_nothing_compared(db: str) -> None:
    res = runner.invoke(app, ["compare", "sfepy", "calculix", "--store", db, "--json"])
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["ok"] is False and data["compared"] == 2 and data["failed"] == 1
    none = runner.invoke(app, ["compare", "sfepy", "abaqus", "--store", db])
    assert none.exit_code == 1
    err = one_line_error(none)
    assert "nothing compared" in err and "abaqus" in err


def test_compare_bad_options(db: str) -> None:
    res = runner.invoke(app, ["compare", "sfepy", "calculix", "--store", db, "--rtol-stat", "p99"])
    assert res.exit_code == 2 and "STAT=RTOL" in res.output
    res = runner.invoke(app, ["compare", "sfepy", "sfepy", "--store", db])
    assert res.exit_code == 1 and "two different backends" in one_line_error(res)


def test_bad_store_paths_are_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    res = runner.invoke(app, ["show", "--store", str(notes)])
    assert res.exit_code == 1 and "not a footdt label store" in one_line_error(res)
    res = runner.invoke(app, ["show", "--store", str(tmp_path / "missing.db")])
    assert res.exit_code == 1 and "no label store" in one_line_error(res)
    assert not (tmp_path / "missing.db").exists()
    res = runner.invoke(app, ["export", str(tmp_path / "x.csv"), "--store", "nosuch://h/db"])
    assert res.exit_code == 1 and "not supported" in one_line_error(res)


def test_export_and_describe(db: str, tmp_path: Path) -> None:
    out = tmp_path / "exp" / "labels.csv"
    res = runner.invoke(app, ["export", str(out), "--store", db, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"path": str(out), "format": "csv", "rows": 4, "wide": False,
                                      "schema": str(out) + ".schema.json"}  # fmt: skip
    wide = tmp_path / "exp" / "wide.parquet"
    res = runner.invoke(app, ["export", str(wide), "--store", db, "--wide", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["rows"] == 2  # 1 trial x 2 backends
    assert len(pd.read_csv(out)) == 4
    res = runner.invoke(app, ["describe", "--store", db, "--json"])
    assert json.loads(res.stdout)["backends"] == {"calculix": 2, "sfepy": 2}


def test_export_prints_a_path_with_brackets_as_it_is(db: str, tmp_path: Path) -> None:
    out = tmp_path / "[bold]x[/bold] [/]" / "labels.csv"
    res = runner.invoke(app, ["export", str(out), "--store", db])
    assert res.exit_code == 0, res.output
    assert f"to {out} (types: {out}.schema.json)" in res.output.replace("\n", "")


# ------------------------------------------------------------------------ import
def fake_abaqus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in for footdt.backends.abaqus.read_abaqus_json (tests the command's wiring only)."""

    def read_abaqus_json(path: Path, model: AnalysisModel) -> SolveResult:
        data = json.loads(Path(path).read_text())
        return SolveResult(
            subject=model.subject,
            trial=model.trial,
            backend="abaqus",
            backend_version=data["version"],
            model_hash=model.content_hash(),
            spec_hash="sp",
            mesh_hash=model.mesh_hash(),
            element_volume=np.asarray(data["evol"]),
            phases={k: PhaseResult(k, np.asarray(v)) for k, v in data["mises"].items()},
        )

    module = types.ModuleType("footdt.backends.abaqus")
    module.read_abaqus_json = read_abaqus_json  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "footdt.backends.abaqus", module)


def test_import_reduces_and_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_abaqus(monkeypatch)
    model = inclusion_model(divisions=4)
    model_dir = save_model(model, tmp_path / "model")
    n = model.n_elements
    payload = {
        "version": "2024",
        "evol": [0.5] * n,
        "mises": {p.name: list(np.linspace(0, 1, n)) for p in model.phases},
    }
    (model_dir / "abaqus_results.json").write_text(json.dumps(payload))
    store = str(tmp_path / "l.db")
    res = runner.invoke(
        app, ["import", str(model_dir / "abaqus_results.json"), "--store", store, "--json"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 2 * 2 * 4 and {r["backend"] for r in rows} == {"abaqus"}
    with LabelStore(store) as st:
        assert len(st.query(backend="abaqus")) == 16
    elsewhere = tmp_path / "r.json"
    elsewhere.write_text(json.dumps(payload))
    res = runner.invoke(
        app, ["import", str(elsewhere), "--store", store, "--model", str(model_dir)]
    )
    assert res.exit_code == 0 and "stored 16 labels" in res.stdout
    res = runner.invoke(
        app, ["import", str(elsewhere), "--store", store]
    )  # tmp_path is no model dir
    assert res.exit_code == 1 and "not a compiled model directory" in one_line_error(res)
    elsewhere.write_text("{not json")
    res = runner.invoke(
        app, ["import", str(elsewhere), "--store", store, "--model", str(model_dir)]
    )
    assert res.exit_code == 1 and "cannot read Abaqus results" in one_line_error(res)


def test_show_limit(db: str) -> None:
    res = runner.invoke(app, ["show", "--store", db, "--limit", "1"])
    assert res.exit_code == 0 and "1 of 4 labels" in res.stdout and "3 more" in res.stdout
    res = runner.invoke(app, ["show", "--store", db, "--limit", "0"])
    assert res.exit_code == 0 and "4 labels" in res.stdout and "more" not in res.stdout
    res = runner.invoke(app, ["show", "--store", db, "--json", "--limit", "3"])
    assert len(json.loads(res.stdout)) == 3
    assert len(json.loads(runner.invoke(app, ["show", "--store", db, "--json"]).stdout)) == 4
