"""`footdt personalise` and `footdt shape build|info` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from footdt.cli.app import app
from footdt.shape.ssm import SSM, load_ssm
from tests.conftest import SPECS
from tests.shape.conftest import write_scan

runner = CliRunner()


def test_personalise_json_report_and_files(tmp_path: Path) -> None:
    out = tmp_path / "s01"
    res = runner.invoke(app, ["personalise", str(SPECS / "subjects" / "s01.yaml"), "--out", str(out),
                              "--size", "5", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    for key in ("foot_length_error_mm", "foot_width_error_mm", "skin_error_p95_mm", "pc_weights",
                "worst_min_dihedral_deg", "worst_part", "measured_mm", "ssm"):  # fmt: skip
        assert key in rep, key
    assert abs(rep["foot_length_error_mm"]) < 1.0 and abs(rep["foot_width_error_mm"]) < 1.0
    assert rep["subject"] == "s01" and rep["source"] == "measurements"
    for f in ("model.json", "arrays.npz", "mesh.vtu", "fit.png", "personalisation.json"):
        assert (out / f).is_file(), f
    # the compiled model solves as any other: `footdt solve build/s01`
    assert json.loads((out / "personalisation.json").read_text())["pc_weights"] == rep["pc_weights"]


def test_personalise_refuses_a_template_spec(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["personalise", str(SPECS / "subjects" / "template.yaml"), "--out", str(tmp_path)]
    )
    assert res.exit_code == 1
    assert "needs `type: personalised`" in res.output and "Traceback" not in res.output


def test_shape_info_json(builtin: SSM) -> None:
    res = runner.invoke(app, ["shape", "info", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["modes"] == builtin.n_modes
    assert 0.99 < sum(info["variance_explained"]) <= 1.0 + 1e-9
    assert info["measurements_mm"]["foot_length"]["mean"] == pytest.approx(262, abs=10)


def test_shape_build_from_scans_then_personalise_with_it(builtin: SSM, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    scans = tmp_path / "scans"
    scans.mkdir()
    truth = [rng.normal(0.0, 1.0, builtin.n_modes) for _ in range(4)]
    for i, w in enumerate(truth):
        write_scan(scans / f"runner{i}.stl", builtin, w, seed=10 + i)
    res = runner.invoke(
        app, ["shape", "build", str(scans), "--out", str(tmp_path / "mine.ssm"), "--json"]
    )
    assert res.exit_code == 0, res.output
    mine = load_ssm(tmp_path / "mine.ssm")
    assert mine.scores.shape[0] == 4 and mine.n_skin == builtin.n_skin
    # its training shapes are the scans: each lies on its scan to a fraction of a millimetre
    from footdt.shape.scan import fit_scan, read_scan

    for i, s in enumerate(mine.scores):
        shape = mine.reconstruct(s)
        scan = fit_scan(builtin, read_scan(scans / f"runner{i}.stl")).surface
        assert scan.query(shape.skin).stats().p95 < 0.5
    spec = tmp_path / "p.yaml"
    text = (SPECS / "subjects" / "s01.yaml").read_text().replace("# ssm: foot.ssm", "ssm: mine.ssm")
    spec.write_text(text.replace("size: 3.0", "size: 5.0", 1).replace("ball_girth: 276.0", ""))
    res = runner.invoke(app, ["personalise", str(spec), "--out", str(tmp_path / "o"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["ssm"].endswith("mine.ssm")


def test_shape_build_refusals(tmp_path: Path) -> None:
    (tmp_path / "few").mkdir()
    res = runner.invoke(
        app, ["shape", "build", str(tmp_path / "few"), "--out", str(tmp_path / "x.ssm")]
    )
    assert res.exit_code == 1 and "needs at least 3 feet" in res.output
    res = runner.invoke(app, ["shape", "info", str(tmp_path / "nothing.ssm")])
    assert res.exit_code == 1 and "SSM file not found" in res.output


def test_shape_build_from_a_cohort(tmp_path: Path) -> None:
    """A cohort's runners (foot length, width, arch height of their specs) as template variants."""
    from footdt.cohort.generate import generate
    from footdt.cohort.spec import load_cohort_spec
    from footdt.shape.measure import measure
    from footdt.shape.measurements import shape_skin
    from tests.cohort.conftest import cohort_spec_text, write_template

    write_template(tmp_path)
    (tmp_path / "c.yaml").write_text(cohort_spec_text(n=5, trials=1))
    generate(load_cohort_spec(tmp_path / "c.yaml"), tmp_path / "cohort")
    res = runner.invoke(
        app, ["shape", "build", str(tmp_path / "cohort"), "--out", str(tmp_path / "c.ssm")]
    )
    assert res.exit_code == 0, res.output
    model = load_ssm(tmp_path / "c.ssm")
    lengths = sorted(measure(shape_skin(model.reconstruct(s)))["foot_length"] for s in model.scores)
    from footdt.cohort.manifest import load_manifest

    expected = sorted(s.foot_length_mm for s in load_manifest(tmp_path / "cohort").subjects)
    assert lengths == pytest.approx(expected, abs=0.01)
