"""``footdt demo`` parts that need no solver or network: option checks (one-line errors), the
stage memory, choosing the solved runners, the new runner's comparison and the report page."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footdt.cli.app import app
from footdt.demo.data import select_solved, write_recording_csv
from footdt.demo.options import DemoError, DemoOptions
from footdt.demo.state import DemoState, digest
from footdt.demo.twin import compare_with_fe
from footdt.labels.reduce import LabelRow

runner = CliRunner()


def _error_line(args: list[str]) -> str:
    res = runner.invoke(app, ["demo", *args], catch_exceptions=False)
    assert res.exit_code != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    assert "Traceback" not in res.output
    return " ".join(res.stderr.split())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--runners", "2"], "needs at least 4 runners"),
        (["--size", "0"], "element size must be in (0, 12] mm"),
        (["--size", "40"], "element size must be in (0, 12] mm"),
        (["--trials", "0"], "--trials 0: must be at least 1"),
        (["--epochs", "0"], "--epochs 0: must be at least 1"),
        (["--foot-model", "scan"], "--foot-model 'scan': use personalised or template"),
    ],
)
def test_bad_options_are_one_line_errors_and_write_nothing(
    args: list[str], needle: str, tmp_path: Path
) -> None:
    out = tmp_path / "demo"
    assert needle in _error_line([*args, "--out", str(out)])
    assert not out.exists()


def test_an_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert "exists and is not a directory" in _error_line(["--out", str(f)])


def test_a_second_demo_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    import fcntl

    from footdt.demo.run import LOCK, _locked

    (tmp_path / LOCK).touch()
    fd = os.open(tmp_path / LOCK, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(DemoError, match="in use by another `footdt demo`"), _locked(tmp_path):
            pass
    finally:
        os.close(fd)
    with _locked(tmp_path):  # free again
        pass


def test_stage_memory_needs_the_same_key_and_the_outputs(tmp_path: Path) -> None:
    state = DemoState(tmp_path)
    made = tmp_path / "made.txt"
    made.write_text("x")
    state.record("train", digest("a", 1), {"n": 3}, 1.5)
    again = DemoState(tmp_path)  # read back from demo-state.json
    assert again.summary("train", digest("a", 1), [made]) == {"n": 3}
    assert again.summary("train", digest("a", 2), [made]) is None  # another key
    assert again.summary("train", digest("a", 1), [tmp_path / "gone"]) is None  # output missing
    again.forget("train")
    assert DemoState(tmp_path).summary("train", digest("a", 1)) is None
    (tmp_path / "demo-state.json").write_text("{not json")
    assert DemoState(tmp_path).stages == {}  # a damaged file means: nothing is done


def _labels(subject: str, trial: str) -> list[LabelRow]:
    return [LabelRow(subject=subject, trial=trial, phase="mid_stance", bone="metatarsal_2",
                     stat=stat, value_mpa=1.0, backend="sfepy", backend_version="0",
                     spec_hash="s", mesh_hash="m", model_hash="h", solve_id=f"{subject}-{trial}",
                     wall_time_s=0.0, residual=None, max_on_boundary=False,
                     created_at="2025-01-01T00:00:00+00:00") for stat in ("mean", "p99")]  # fmt: skip


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from footdt.cohort.generate import generate
    from footdt.cohort.spec import CohortSpec
    from tests.cohort.conftest import write_template

    d = tmp_path_factory.mktemp("demo-cohort")
    spec = CohortSpec(seed=3, n_runners=6, trials=2, strides_per_trial=5,
                      template=write_template(d))  # fmt: skip
    generate(spec, d / "cohort")
    return d / "cohort"


def test_the_solved_runners_become_the_training_cohort(cohort: Path, tmp_path: Path) -> None:
    from footdt.cohort.manifest import load_manifest
    from footdt.labels import LabelStore

    store = tmp_path / "labels.db"
    solved = [("R001", "T1"), ("R001", "T2"), ("R002", "T1"), ("R003", "T2"), ("R004", "T1"),
              ("R004", "T2")]  # fmt: skip
    with LabelStore(store) as st:
        st.put([row for s, t in solved for row in _labels(s, t)])
    used = tmp_path / "used"
    res = select_solved(cohort, store, used, "sfepy")
    assert res["runners"] == ["R001", "R002", "R003", "R004"] and res["dropped"] == ["R005", "R006"]
    m = load_manifest(used)
    assert [(s.id, t.id) for s in m.subjects for t in s.trials] == solved
    assert (used / "R002").is_symlink() and not os.path.isabs(os.readlink(used / "R002"))
    assert (used / m.subjects[0].trials[0].imu).is_file()
    few = tmp_path / "few.db"  # three runners are not enough
    with LabelStore(few) as st:
        st.put([row for s, t in solved[:4] for row in _labels(s, t)])
    with pytest.raises(DemoError, match="only 3 of 6 runners have FE labels.*larger --runners"):
        select_solved(cohort, few, tmp_path / "used2", "sfepy")
    assert not (tmp_path / "used2").exists()


def test_the_recording_csv_is_the_generated_recording(cohort: Path, tmp_path: Path) -> None:
    import numpy as np

    from footdt.gait.io import read_recording

    imu = cohort / "R001" / "T1" / "imu.npz"
    info = write_recording_csv(imu, tmp_path / "rec.csv")
    rec = read_recording(
        tmp_path / "rec.csv", [f"{s}={s}_ax,{s}_ay,{s}_az" for s in ("foot", "tibia")]
    )
    with np.load(imu) as z:
        want = np.asarray(z["recording"], float)
        assert rec.rate_hz == pytest.approx(float(z["recording_rate_hz"])) == info["rate_hz"]
    np.testing.assert_allclose(rec.acc["foot"], want[:, :3], atol=1e-6)
    np.testing.assert_allclose(rec.acc["tibia"], want[:, 3:], atol=1e-6)


def test_the_new_runners_labels_are_compared_with_the_intervals() -> None:
    pred = {"interval": {"level": 0.9}, "targets": [
        {"target": "a", "recording_mpa": 5.0, "lower_mpa": 4.0, "upper_mpa": 6.0},
        {"target": "b", "recording_mpa": 5.0, "lower_mpa": 4.0, "upper_mpa": 6.0},
        {"target": "c", "recording_mpa": 5.0, "lower_mpa": None, "upper_mpa": None},  # infinite
        {"target": "d", "recording_mpa": 5.0, "lower_mpa": 4.0, "upper_mpa": 6.0},
    ]}  # fmt: skip
    c = compare_with_fe(pred, {"a": 6.0, "b": 6.5, "c": 100.0})  # d has no label
    assert (c["n_targets"], c["n_inside"], c["level"]) == (3, 2, 0.9)
    assert [r["inside"] for r in c["targets"]] == [True, False, True]
    assert c["targets"][1]["error_mpa"] == pytest.approx(-1.5)


def test_options_default_to_the_specs_and_check_them(tmp_path: Path) -> None:
    from footdt.demo.data import cohort_spec

    spec = cohort_spec(DemoOptions(out=tmp_path, runners=5, trials=1, seed=9))
    assert (spec.n_runners, spec.trials, spec.seed, spec.strides_per_trial) == (5, 1, 9, 10)
    with pytest.raises(DemoError, match="demo's experiment is missing"):
        DemoOptions(out=tmp_path, experiment=tmp_path / "nope.yaml").check()
    assert json.dumps(DemoOptions(out=tmp_path).as_dict())


def _png(path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    fig.savefig(path)
    plt.close(fig)
    return path


def test_the_report_page_has_every_section_in_order(tmp_path: Path) -> None:
    from footdt.demo.page import write_report
    from footdt.evaluate.run import evaluate_run
    from tests.evaluate.fake_run import make_run

    run = make_run(tmp_path / "run", domain_adaptation="none")
    ev = evaluate_run(run)
    targets = [{"target": t, "stat": t.split(".")[2], "median_stride_mpa": 10.0, "recording_mpa": 10.0,
                "lower_mpa": lo, "upper_mpa": hi, "ood_fraction": 0.1, "damage_index": 12.0}
               for t, lo, hi in (("mid_stance.metatarsal_2.mean", 9.0, 11.0),
                                 ("push_off.metatarsal_2.peak", None, None))]  # fmt: skip
    pred = {"command": "footdt predict run rec.csv --out p.csv", "n_strides": 10,
            "interval": {"level": 0.9, "method": "cv+", "n_calibration_trials": 16,
                         "n_calibration_subjects": 8},
            "ood": {"n_flagged": 1}, "targets": targets, "damage": [{"exponent": 10.0}],
            "plot": str(_png(tmp_path / "pred.png"))}  # fmt: skip
    summary = {
        "options": {"size_mm": 5.0}, "learning": {"architecture": "lstm"}, "peak_stat": "p99",
        "cohort": {"n_runners": 9, "n_rearfoot": 7, "n_non_rearfoot": 2, "n_trials": 27,
                   "body_mass_kg": [68.0, 9.0], "height_m": [1.76, 0.06], "foot_length_mm": [264.0, 9.0]},
        "selected": {"runners": [f"S{i}" for i in range(1, 9)], "n_trials": 24},
        "fe": {"backend": "native", "counts": {"done": 24, "up_to_date": 0, "failed": 3}, "n_trials": 27,
               "failed": [{"subject": "R009", "trial": "T1", "step": "compile", "reason": "mesh quality: slivers"}]},
        "pictures": [{"subject": "S1", "trial": "T1", "group": "rearfoot", "phase": "push_off",
                      "png": str(_png(tmp_path / "s1.png"))}],
        "labels": [{"target": "mid_stance.metatarsal_2.mean", "n": 24, "median_mpa": 8.0,
                    "min_mpa": 5.0, "max_mpa": 12.0}],
        "new_runner": {"id": "N001", "group": "rearfoot", "body_mass_kg": 70.0,
                       "recording": {"csv": "rec.csv", "duration_s": 8.0, "rate_hz": 100.0}},
        "prediction": pred,
        "fe_check": compare_with_fe(pred, {"mid_stance.metatarsal_2.mean": 12.0,
                                           "push_off.metatarsal_2.peak": 30.0}),
        "verification": {"checks": [{"case": "bar_compression", "backend": "sfepy",
                                     "quantity": "stress", "expected": 20.0, "measured": 20.0,
                                     "rel_error": 0.0}], "comparison": None},
    }  # fmt: skip
    from footdt.demo.figures import twin_figure

    twin = twin_figure(pred, summary["fe_check"], tmp_path / "twin.png")  # type: ignore[arg-type]
    page = write_report(summary, run, ev, _png(tmp_path / "cohort.png"), tmp_path / "r.html", twin)
    html = page.read_text()
    order = ["Verdict", "does NOT beat body mass alone", "Contents", 'href="#twin"',
             'id="cohort">1. The synthetic cohort', 'id="fe">2. Finite-element models', "R009",
             'id="labels">3. Labels', 'id="learning">4. Learning', "Baselines first", "Table 1",
             "bland altman", "Rearfoot vs non-rearfoot", 'id="twin">5. The twin on a new runner',
             'id="checks">6. Closed-form checks']  # fmt: skip
    assert "FE models at 5 mm (native)" in html or "(native) →" in html
    pos = [html.index(s) for s in order]
    assert pos == sorted(pos)
    # cohort, stress picture, the run's 5 figures (violins, correlation, Bland-Altman, groups,
    # importance), the twin figure, the prediction plot
    assert html.count("data:image/png;base64,") == 1 + 1 + 5 + 1 + 1
    assert "<b>1 of 2</b> targets" in html  # the FE label inside for one target (infinite bound: ∞)
    assert "[0.00, ∞]" in html and '<td class="bad">NO</td>' in html  # von Mises >= 0
    assert "[-" not in html and "significantly on <b>" in html  # Holm-adjusted wins, from the run
    # the damage index is explained beside its table, with this runner's number worked out
    table_end = html.index("</table>", html.index('id="twin"'))
    assert 0 < html.index("Damage index</b> (last column)") - table_end < 600
    assert "reads 12 over 10 strides" in html and "1.66<sup>10</sup> = 159 typical" in html


def test_a_failing_cache_build_costs_a_warning_not_the_demo(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from footdt.demo.fe import warm_shape_cache
    from footdt.demo.ui import DemoUi

    out = io.StringIO()
    seconds = warm_shape_cache(tmp_path / "missing.yaml", DemoUi(Console(file=out, width=200), 1))
    assert seconds > 0 and "failed (exit code 1)" in out.getvalue()
