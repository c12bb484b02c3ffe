"""Hostile and careless spec files (issue 16): every one is refused with one line per error that
says where (file:line) and what to do, quickly, and without echoing more than an excerpt."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footdt.cli.app import app
from footdt.errors import FootdtError, SpecError
from footdt.spec import load_profile, load_spec
from footdt.spec.loader import MAX_BYTES, read_data
from footdt.spec.validate import validate_file
from tests.conftest import SPECS
from tests.spec.test_loader import BAR

REPO = SPECS.parent
QUICK = (SPECS / "experiments" / "quick.yaml").read_text()
runner = CliRunner()


def _error(path: Path) -> str:
    """The message of the FootdtError ``footdt validate`` would print for ``path``."""
    with pytest.raises(FootdtError) as info:
        validate_file(path)
    msg = str(info.value)
    for line in msg.splitlines():
        assert len(line) <= 300, line
        assert line.startswith(str(path)), line
    return msg


def _spec_error(write_spec, text: str, name: str = "spec.yaml") -> str:
    return _error(write_spec(text, name))


# --- empty values and YAML features ------------------------------------------------------------


def test_empty_value_is_an_error_not_a_crash(write_spec) -> None:
    msg = _spec_error(write_spec, BAR.replace("id: bar\n", "id: bar\ndescription:\n"))
    assert re.search(r"spec\.yaml:3: description: is empty: give a value or remove the key", msg)


def test_empty_value_everywhere(write_spec) -> None:
    emptied = 0
    for line in BAR.splitlines():
        key, _, value = line.partition(":")
        if value.strip() and not line.strip().startswith("-"):
            with pytest.raises(SpecError, match="is empty: give "):
                load_spec(write_spec(BAR.replace(line, f"{key}:")))
            emptied += 1
    assert emptied >= 5


def test_duplicated_section_header_is_a_duplicate_key(write_spec) -> None:
    msg = _spec_error(write_spec, BAR.replace("materials:\n", "materials:\nmaterials:\n"))
    assert "spec.yaml:7: duplicate key 'materials': keep one" in msg


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("base: &b {E: 1.0, nu: 0.3}\nm:\n  <<: *b\n", "merge keys (<<) are not supported"),
        ("? [a, b]\n: 1\n", "a key must be a plain name"),
        ("r: &r [*r]\n", "alias refers to the list or mapping that holds it"),
        ("x: !foo bar\n", "YAML tag '!foo' is not supported"),
        ("x: !!python/object/apply:os.system ['echo']\n", "is not supported in a spec"),
        ("x: !!binary aGVsbG8=\n", "is not supported in a spec"),
        ("x: " + "[" * 100 + "]" * 100 + "\n", "nested deeper than 64 levels"),
        ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nest"),
        ("---\nkind: subject\n", "YAML syntax error"),
        ("x: !!int nope\n", "cannot read 'nope' as int"),
        ("x: " + "9" * 5000 + "\n", "cannot read"),
    ],
)
def test_yaml_features_are_one_line_errors(write_spec, snippet: str, expected: str) -> None:
    msg = _spec_error(write_spec, BAR + snippet)
    assert expected in msg
    assert len(msg.splitlines()) == 1


def test_nul_byte(write_spec, tmp_path: Path) -> None:
    p = tmp_path / "nul.yaml"
    p.write_bytes(BAR.encode().replace(b"id: bar", b"id: b\x00ar"))
    assert "nul.yaml:2: the file holds a NUL byte" in _error(p)


def test_utf16_gets_a_hint(tmp_path: Path) -> None:
    for enc in ("utf-16", "utf-16-le"):
        p = tmp_path / "u.yaml"
        p.write_bytes(BAR.encode(enc))
        assert "looks UTF-16 encoded: save it as UTF-8" in _error(p)


def test_utf8_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    p = tmp_path / "bom.yaml"
    p.write_bytes(b"\xef\xbb\xbf" + BAR.replace("\n", "\r\n").encode())
    assert load_spec(p).spec.id == "bar"


def test_yaml_12_scalars(write_spec) -> None:
    text = BAR.replace("value: 1.0}", "value: 1e-3}").replace("id: bar", "id: 2001-12-14")
    spec = load_spec(write_spec(text)).spec
    assert spec.id == "2001-12-14"  # a date stays text
    assert spec.phases[0].pressures[0].value == 1e-3  # 1e-3 is a number without a dot


# --- limits: size, aliases, time ---------------------------------------------------------------


def test_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    p = tmp_path / "bomb.yaml"
    p.write_text("\n".join(lines) + "\n")
    assert p.stat().st_size < 1500
    t = time.perf_counter()
    assert "expands to more than 200,000 values" in _error(p)
    assert time.perf_counter() - t < 1  # measured on the node graph: nothing is expanded


def test_large_toml_is_linear(tmp_path: Path) -> None:
    text = 'backend = "sfepy"\n' + "".join(f"[t{i}]\nkey_{i} = {i}\n" for i in range(10000))
    p = tmp_path / "big.toml"
    p.write_text(text)
    t = time.perf_counter()
    _, source = read_data(p)
    assert time.perf_counter() - t < 3
    assert source.line(("t9999", "key_9999")) == 20001
    assert "unknown key" in _error(p)


def test_toml_line_map_knows_arrays_of_tables(write_spec) -> None:
    toml = (
        'kind = "subject"\nid = "bar"\n[geometry]\ntype = "box"\nsize = [10.0, 2.0, 2.0]\n'
        '[materials.steel]\nE = 210000.0\nnu = 0.3\n[[sections]]\npart = "body"\n'
        'material = "steel"\n[[phases]]\nname = "p"\n[[phases]]\nname = "q"\n'
        '[[phases.pressures]]\nsurface = "xmax"\nvalue = nan\n'
    )
    msg = _spec_error(write_spec, toml, "spec.toml")
    assert "spec.toml:18: phases.1.pressures.0.value: must be a finite number (MPa)" in msg


def test_oversized_file(tmp_path: Path) -> None:
    p = tmp_path / "big.yaml"
    p.write_bytes(b"k: " + b"v" * MAX_BYTES + b"\n")
    assert "byte limit for a spec" in _error(p)


def test_fifo_and_devices_are_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    t = time.perf_counter()
    assert "not a regular file" in _error(fifo)
    assert "not a regular file" in _error(zero)
    assert "is a folder" in _error(folder)
    assert time.perf_counter() - t < 2


def test_long_values_are_quoted_as_excerpts(write_spec) -> None:
    huge = "K" * 500_000
    for text in (
        BAR.replace("id: bar", f"id: {huge}"),
        BAR.replace("kind: subject", f"kind: {huge}"),
        BAR.replace("type: box", f"type: {huge}"),
        BAR + f"{huge[:1000]}: 1\n",
        BAR.replace("surface: xmax", f"surface: '{huge}'"),
        QUICK.replace("epochs: 2", f"epochs: '{huge}'"),
        QUICK.replace("epochs: 2", f"{huge[:1000]}: 2"),
    ):
        msg = _spec_error(write_spec, text)
        assert len(msg) < 2000, msg[:500]


# --- numbers: finite, in range, with units ------------------------------------------------------


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1e300", "-1e300", "5000"])
def test_pressure_must_be_finite_and_physical(write_spec, value: str) -> None:
    msg = _spec_error(write_spec, BAR.replace("value: 1.0}", f"value: {value}}}"))
    assert "spec.yaml:15: phases.0.pressures.0.value: must be" in msg
    assert "MPa" in msg


@pytest.mark.parametrize("value", [".nan", ".inf", "1e300"])
def test_boundary_value_must_be_finite(write_spec, value: str) -> None:
    text = BAR.replace("{on: xmin, dofs: [x, y, z]}", f"{{on: xmin, dofs: [x], value: {value}}}")
    msg = _spec_error(write_spec, text)
    assert "spec.yaml:11: boundary_conditions.0.value: must be" in msg and "mm" in msg


def test_duplicated_pressure_is_refused_not_summed(write_spec) -> None:
    text = BAR + "      - {surface: xmax, value: 1.0}\n"
    msg = _spec_error(write_spec, text)
    assert "phases.0.pressures: entries 0 and 1 both put a pressure on surface 'xmax'" in msg


def test_conflicting_boundary_conditions(write_spec) -> None:
    text = BAR.replace(
        "  - {on: xmin, dofs: [x, y, z]}",
        "  - {on: xmin, dofs: [x, y, z]}\n  - {on: xmin, dofs: [x], value: 0.5}",
    )
    assert "prescribe x = 0 mm and 0.5 mm" in _spec_error(write_spec, text)
    same = BAR.replace("  - {on: xmin, dofs: [x, y, z]}", "  - {on: xmin, dofs: [x, y, z]}" * 1)
    assert load_spec(write_spec(same + "")).spec


@pytest.mark.parametrize(
    ("replacement", "field", "words"),
    [
        ("size: [1e308, 2.0, 2.0]", "geometry.size.0", "<= 10000 mm"),
        ("size: [10.0, 2.0, 1e-320]", "geometry.size.2", ">= 0.001"),
        ("size: [10.0, 2.0, '2 mm']", "geometry.size.2", "got the text '2 mm'"),
        ("size: [10.0, 2.0, true]", "geometry.size.2", "got true (a boolean)"),
    ],
)
def test_absurd_geometry(write_spec, replacement: str, field: str, words: str) -> None:
    msg = _spec_error(write_spec, BAR.replace("size: [10.0, 2.0, 2.0]", replacement))
    assert f"spec.yaml:5: {field}: " in msg and words in msg


def test_inclusion_of_1e_320(write_spec) -> None:
    text = BAR.replace(
        "  type: box\n  size: [10.0, 2.0, 2.0]",
        "  type: box_with_inclusion\n  size: [10, 10, 10]\n  inclusion_size: [1e-320, 2, 2]",
    )
    assert "geometry.inclusion_size.0: must be >= 0.001 and <= 10000 mm" in _spec_error(
        write_spec, text
    )


@pytest.mark.parametrize(
    ("size", "words"), [("1e-320", "must be >= 0.001"), ("1e30", "must be >= 0.001"), ("50", "")]
)
def test_absurd_mesh_size(write_spec, size: str, words: str) -> None:
    msg = _spec_error(write_spec, BAR + f"mesh: {{size: {size}}}\n")
    assert "mesh" in msg
    if words:
        assert words in msg
    else:
        assert "larger than the model itself (largest dimension 10 mm)" in msg


def test_huge_mesh_refused_by_the_estimate_at_validate(write_spec) -> None:
    text = BAR.replace("size: [10.0, 2.0, 2.0]", "size: [10000, 10000, 10000]")
    msg = _spec_error(write_spec, text)
    assert len(msg.splitlines()) == 1
    assert "mesh size 5 mm is too fine: ~" in msg and "elements" in msg
    assert "use a larger mesh.size" in msg


def test_unknown_part_size(write_spec) -> None:
    msg = _spec_error(write_spec, BAR + "mesh: {part_sizes: {talus: 1}}\n")
    assert "part_sizes names no part of this geometry: ['talus']" in msg


def test_section_with_unknown_material(write_spec) -> None:
    msg = _spec_error(
        write_spec, BAR.replace("{part: body, material: steel}", "{part: body, material: stell}")
    )
    assert "spec.yaml:9: sections.0.material: no material named 'stell'; defined: ['steel']" in msg


# --- experiment hyperparameters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("filters: 4", "units: -1", "model.hyperparameters.units"),
        ("epochs: 2", "epochs: -.inf", "model.hyperparameters.epochs"),
        ("epochs: 2", "epochs: 1e12", "model.hyperparameters.epochs"),
        ("epochs: 2", "epochs: '60 MPa'", "model.hyperparameters.epochs"),
        ("epochs: 2", "epochs: 2.5", "model.hyperparameters.epochs"),
        ("epochs: 2", "learning_rate: .nan", "model.hyperparameters.learning_rate"),
        ("epochs: 2", "dropout: 7.5", "model.hyperparameters.dropout"),
        ("batch_size: 8", "batch_size: 0", "model.hyperparameters.batch_size"),
        ("batch_size: 8", "batch_size: ''", "model.hyperparameters.batch_size"),
        ("batch_size: 8", "batch_size: [8]", "model.hyperparameters.batch_size"),
        ("batch_size: 8", "batch_size: true", "model.hyperparameters.batch_size"),
        ("epochs: 2", "epoch: 2", "model.hyperparameters.epoch"),
        ("static_features: [body_mass]", "sensors: []", "inputs.sensors"),
        ("static_features: [body_mass]", "sensors: [foot, foot]", "inputs.sensors"),
        ("inner_trials: 2", "inner_trials: .inf", "validation.inner_trials"),
        ("seeds: [0]", "seeds: [0, 0]", "validation.seeds"),
        ("low: 1.0e-3", "low: -1.0e-3", "model.search_space.learning_rate"),
        ("log: true", "log: 'yes'", "model.search_space.learning_rate"),
        ("inputs:", "inputs:\n  samples_per_phase: 0", "inputs.samples_per_phase"),
    ],
)
def test_experiment_numbers_are_checked(write_spec, old: str, new: str, where: str) -> None:
    assert old in QUICK
    msg = _spec_error(write_spec, QUICK.replace(old, new, 1))
    assert f": {where}" in msg, msg
    assert len(msg.splitlines()) == 1


def test_hyperparameter_message_has_meaning_and_range(write_spec) -> None:
    msg = _spec_error(write_spec, QUICK.replace("epochs: 2", "epochs: 1e12"))
    assert (
        "model.hyperparameters.epochs: passes over the training rows must be >= 1 and <= 10000, "
        "got 1e+12" in msg
    )


def test_hyperparameter_table_matches_the_architectures() -> None:
    from footdt.learn.architectures import DEFAULTS
    from footdt.spec.experiment import HYPERPARAMETERS

    assert set(HYPERPARAMETERS) == set(DEFAULTS)
    for name, value in DEFAULTS.items():
        HYPERPARAMETERS[name].check(name, value)


# --- what kind of file, cohorts, profiles ----------------------------------------------------------


def test_profile_with_a_typo_is_checked_as_a_profile(tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_text('bakend = "sfepy"\nrtol = 1e-8\nthreads = 0\n')
    msg = _error(p)
    assert "p.toml:1: bakend: unknown key (did you mean 'backend'?)" in msg
    assert "geometry" not in msg


def test_profile_numbers_and_solver(tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    for text, words in (
        ('backend = "sfepy"\nrtol = nan\n', "rtol: must be a finite number"),
        ('backend = "sfepy"\nthreads = -1\n', "threads: must be >= 0 and <= 4096 threads"),
        (
            'backend = "sfepy"\nlinear_solver = "spooles"\n',
            "'spooles' is not a sfepy linear solver",
        ),
        ('backend = "sfepy"\nmax_iterations = 1e300\n', "max_iterations: must be"),
    ):
        p.write_text(text)
        assert words in _error(p)
    p.write_text('backend = "calculix"\nlinear_solver = "spooles"\n')
    assert load_profile(p).backend == "calculix"


def test_cohort_without_kind_is_a_cohort(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(f"n_runners: 4\ntrials: 2\ntemplate: {SPECS / 'subjects' / 'template.yaml'}\n")
    assert validate_file(p)["kind"] == "cohort"
    p.write_text("n_runners: 4\ntrails: 2\n")
    msg = _error(p)
    assert "trails: unknown key (did you mean 'trials'?)" in msg and "geometry" not in msg


def test_cohort_template_must_exist_and_be_valid(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("kind: cohort\nn_runners: 4\ntemplate: nope.yaml\n")
    assert "c.yaml:3: template: template" in _error(p) and "does not exist" in _error(p)
    (tmp_path / "bad.yaml").write_text(BAR.replace("nu: 0.3", "nu: 0.7"))
    p.write_text("kind: cohort\ntemplate: bad.yaml\n")
    assert "is not a valid subject spec" in _error(p)


def test_cohort_numbers_are_physical(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    for text, words in (
        (
            "kind: cohort\nbody_mass_kg: {mean: 67700, sd: 9.6}\n",
            "outside the physical range 20-300",
        ),
        ("kind: cohort\nspeed_m_s: {low: .nan, high: 3}\n", "must be a finite number"),
        ("kind: cohort\nn_runners: 1e300\n", "n_runners: must be"),
        ("kind: cohort\nsensors: {rate_hz: 100, bandwidth_hz: 90}\n", "half of rate_hz"),
    ):
        p.write_text(text)
        assert words in _error(p)


def test_cohort_given_to_load_spec_is_named(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("n_runners: 4\nbody_mass_kg: {mean: 70, sd: 5}\n")
    with pytest.raises(SpecError, match="this is a cohort spec"):
        load_spec(p)


# --- the printer ---------------------------------------------------------------------------------


def test_markup_in_user_text_is_printed_literally(tmp_path: Path) -> None:
    folder = tmp_path / "bar ["
    folder.mkdir()
    p = folder / "].yaml"  # the file bar [/].yaml
    p.write_text('"[/]": 1\nkind: "[bold]x[/bold]"\n')
    result = runner.invoke(app, ["validate", str(p)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "unknown spec kind '[bold]x[/bold]'" in result.stderr
    assert "bar [/].yaml" in result.stderr
    ok = folder / "ok [x].yaml"  # bar [/ok [x].yaml
    ok.write_text(BAR)
    result = runner.invoke(app, ["validate", str(ok)])
    assert result.exit_code == 0 and "bar [/ok [x].yaml" in result.stdout


def test_printer_shortens_and_splits_lines() -> None:
    from footdt.cli.common import error_lines

    lines = error_lines("a" * 5_000_000 + "\n\n[/] b")
    assert len(lines) == 2 and all(len(ln) <= 1000 for ln in lines)
    assert lines[1] == "error: [/] b"


# --- meshing and compile -------------------------------------------------------------------------


def test_rigid_body_check_is_linear_in_memory() -> None:
    import numpy as np

    from footdt.ir_validate import _free_modes

    rng = np.random.default_rng(0)
    nodes = rng.random((20000, 3))
    k = 1_000_000  # 1,000 duplicated conditions on 1,000 nodes x 3 DOFs (a full SVD: 7.3 TiB)
    fn = np.tile(np.arange(1000), 1000)
    fd = np.tile(np.repeat([0, 1, 2], 334)[:1000], 1000)
    t = time.perf_counter()
    assert _free_modes(nodes, fn[:k], fd[:k]) == []
    assert time.perf_counter() - t < 5
    assert _free_modes(nodes, np.array([0, 0, 0]), np.array([0, 1, 2])) == [
        "rotation about x",
        "rotation about y",
        "rotation about z",
    ]


def test_duplicated_boundary_conditions_compile(write_spec) -> None:
    from footdt.compile import compile_spec

    bc = "  - {on: xmin, dofs: [x, y, z]}\n"
    text = BAR.replace(bc, bc * 1000)
    t = time.perf_counter()
    model = compile_spec(load_spec(write_spec(text)))
    assert model.n_nodes > 0 and time.perf_counter() - t < 60


def test_primitive_meshing_is_refused_before_gmsh(monkeypatch) -> None:
    from footdt.errors import MeshError
    from footdt.mesh import primitives
    from footdt.spec.geometry import Box
    from footdt.spec.subject import MeshOptions

    def no_gmsh(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("gmsh must not start")

    monkeypatch.setattr(primitives, "gmsh_session", no_gmsh)
    box = Box(type="box", size=(10000.0, 10000.0, 10000.0))
    with pytest.raises(MeshError, match=r"mesh size 0.5 mm is too fine: ~[\d,]+ nodes"):
        primitives.mesh_primitive(box, MeshOptions(size=0.5))


def test_template_measures_for_the_estimate() -> None:
    from footdt.anatomy.template import build_template
    from footdt.mesh.estimate import TEMPLATE_AREA_MM2, TEMPLATE_VOLUME_MM3, foot_measures
    from footdt.mesh.foot import _template_measures
    from footdt.spec.geometry import FootTemplate

    volume, area = _template_measures(build_template(FootTemplate(type="foot_template")))
    assert volume == pytest.approx(TEMPLATE_VOLUME_MM3, rel=0.02)
    assert area == pytest.approx(TEMPLATE_AREA_MM2, rel=0.02)
    assert foot_measures(FootTemplate(type="foot_template", foot_length=530)) == pytest.approx(
        (8 * TEMPLATE_VOLUME_MM3, 4 * TEMPLATE_AREA_MM2)
    )


def test_fine_template_mesh_refused_at_validate(tmp_path: Path) -> None:
    text = (SPECS / "subjects" / "template.yaml").read_text()
    p = tmp_path / "t.yaml"
    p.write_text(text.replace("  size: 3.0 ", "  size: 0.05 "))
    msg = _error(p)
    assert ": mesh: mesh size 0.05 mm is too fine" in msg and len(msg.splitlines()) == 1


def test_with_mesh_keeps_the_bounds() -> None:
    loaded = load_spec(SPECS / "verification" / "bar_compression.yaml")
    assert loaded.with_mesh(4.0).spec.mesh.size == 4.0
    for size in (1e-320, float("nan"), 1e30):
        with pytest.raises(SpecError, match="bar_compression.yaml: mesh size .*must be"):
            loaded.with_mesh(size)


def test_validate_wants_a_boundary_condition_in_every_phase(write_spec) -> None:
    text = BAR.replace("boundary_conditions:\n  - {on: xmin, dofs: [x, y, z]}\n", "")
    msg = _spec_error(write_spec, text)
    assert "spec.yaml:11: phases.0: phase 'p' has no boundary condition" in msg
    assert load_spec(write_spec(text)).spec.id == "bar"  # a partial spec still loads (templates)


def test_cohort_mean_inside_its_bounds(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    template = SPECS / "subjects" / "template.yaml"
    p.write_text(
        f"kind: cohort\ntemplate: {template}\nheight_m: {{mean: 44.7, sd: 0.06, low: 1.55, high: 2.0}}\n"
    )
    assert "c.yaml:3: height_m: the mean (44.7) must lie within [low, high]" in _error(p)


def test_validate_wants_a_load_in_every_phase(write_spec) -> None:
    for text in (
        BAR.replace("    pressures:\n      - {surface: xmax, value: 1.0}\n", ""),
        BAR.replace("value: 1.0}", "value: 0.0}"),
    ):
        msg = _spec_error(write_spec, text)
        assert "phases.0: phase 'p' has no load, so every stress would be 0" in msg
        assert load_spec(write_spec(text)).spec.id == "bar"


def test_a_readout_without_static_inputs_is_refused_in_one_line(write_spec) -> None:
    text = QUICK.replace("static_features: [body_mass]", "static_features: []").replace(
        "  architecture: cnn1d\n", "  architecture: cnn1d\n  readout: ridge\n"
    )
    msg = _spec_error(write_spec, text)
    assert "model.readout: ridge reads the static inputs" in msg and "static_features" in msg
    assert len(msg.splitlines()) == 1
