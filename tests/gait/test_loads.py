"""Loads per stance phase: regional pressure means by hand, Achilles loads, the spec fragment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from footdt.cli.loads import app, parse_regions
from footdt.gait.achilles import FootShankGeometry, GeometricAchillesModel
from footdt.gait.loads import (
    GrfSeries,
    apply_loads,
    derive_loads,
    find_stances,
    fragment,
    read_grf_csv,
)
from footdt.gait.pressure import REGIONS, RegionalPressure, read_regional_csv
from footdt.gait.recording import G, GaitDataError
from footdt.spec.subject import SubjectSpec

# 100 Hz; the foot is loaded from sample 10 to 32 (0.10-0.32 s): stance 0.22 s, so the fixed
# phase cuts at 20 % and 55 % of stance fall between samples: 0.144 s and 0.221 s.
# initial_contact = samples 10-14, mid_stance = 15-22, push_off = 23-32.
N, IC, TO = 45, 10, 32


def _pressure_csv(path: Path) -> dict[str, np.ndarray]:
    k = np.arange(N, dtype=float)
    on = (k >= IC) & (k <= TO)
    cols = {
        "rearfoot": np.where(on, 10.0 * k, 0.0),  # kPa, a ramp: means are mean sample indices
        "midfoot": np.where(on, 50.0, 0.0),
        "forefoot": np.where(on, 100.0 + (k >= 23) * 200.0, 0.0),
        "toes": np.where(on, (k >= 15) * 40.0, 0.0),
    }
    lines = ["time," + ",".join(REGIONS)]
    lines += [f"{i / 100:.2f}," + ",".join(f"{cols[r][i]:.1f}" for r in REGIONS) for i in range(N)]
    path.write_text("\n".join(lines) + "\n")
    return cols


def test_phase_means_match_a_hand_computation(tmp_path: Path) -> None:
    _pressure_csv(tmp_path / "p.csv")
    reg = read_regional_csv(tmp_path / "p.csv", {r: r for r in REGIONS}, units="kPa")
    (stance,) = find_stances(reg)
    assert (stance.ic_s, stance.to_s) == pytest.approx((0.10, 0.32))
    loads = derive_loads(reg)
    by_hand = {  # MPa
        "initial_contact": {"rearfoot": 0.01 * 12, "midfoot": 0.05, "forefoot": 0.1, "toes": 0.0},
        "mid_stance": {"rearfoot": 0.01 * 18.5, "midfoot": 0.05, "forefoot": 0.1, "toes": 0.04},
        "push_off": {"rearfoot": 0.01 * 27.5, "midfoot": 0.05, "forefoot": 0.3, "toes": 0.04},
    }
    for ph, expect in by_hand.items():
        assert loads.phase(ph).pressures_mpa == pytest.approx(expect, abs=1e-12)
        assert loads.phase(ph).achilles is None
    frag = fragment(loads)
    assert [p["name"] for p in frag["phases"]] == ["initial_contact", "mid_stance", "push_off"]
    assert {"surface": "forefoot", "value": 0.3} in frag["phases"][2]["pressures"]


def test_two_stances_are_averaged_and_no_stance_is_an_error(tmp_path: Path) -> None:
    t = np.arange(200) / 100.0
    one = lambda a: np.where((t >= a) & (t <= a + 0.25), 0.2, 0.0)  # noqa: E731
    p = {r: one(0.1) + 2 * one(1.1) for r in REGIONS}
    loads = derive_loads(RegionalPressure(t, 100.0, p))
    assert loads.meta["n_pressure_stances"] == 2
    assert loads.phase("mid_stance").pressures_mpa["toes"] == pytest.approx(0.3)
    with pytest.raises(GaitDataError, match="no stance"):
        find_stances(RegionalPressure(t, 100.0, {r: np.zeros_like(t) for r in REGIONS}))


def _grf(fz: float = 1500.0, fx: float = 100.0, cop: float = 180.0) -> GrfSeries:
    t = np.arange(0, 0.4, 0.001)
    on = (t >= 0.05) & (t <= 0.3)
    g = FootShankGeometry()
    ax, az = g.ankle_mm
    return GrfSeries(t, np.where(on, fx, 0.0), np.where(on, fz, 0.0), np.full_like(t, cop - ax),
                     np.full_like(t, -az), np.full_like(t, 15.0))  # fmt: skip


def test_achilles_load_is_moment_over_moment_arm() -> None:
    model = GeometricAchillesModel(FootShankGeometry())
    t = np.arange(0, 0.4, 0.001)
    reg = RegionalPressure(t, 1000.0, {r: np.where((t >= 0.05) & (t <= 0.3), 0.1, 0.0) for r in REGIONS})  # fmt: skip
    loads = derive_loads(reg, _grf(), model, 70.0)
    ax, az = FootShankGeometry().ankle_mm
    moment = ((180.0 - ax) * 1500.0 + az * 100.0) / 1000.0  # N m: r_x Fz - r_z Fx
    ms = loads.phase("mid_stance").achilles
    assert ms is not None
    assert ms.moment_nm == pytest.approx(moment)
    assert ms.ankle_deg == pytest.approx(15.0)
    assert ms.force_n == pytest.approx(1000.0 * moment / float(model.moment_arm_mm(15.0)))
    assert ms.force_bw == pytest.approx(ms.force_n / (70.0 * G))
    assert np.linalg.norm(ms.total_n) == pytest.approx(ms.force_n)
    assert ms.direction[2] > 0.9  # the tendon pulls the heel up
    assert loads.meta["achilles_peak_n"] == pytest.approx(ms.force_n)  # constant load


def test_dorsiflexing_moment_gives_no_achilles_force() -> None:
    model = GeometricAchillesModel(FootShankGeometry())
    t = np.arange(0, 0.4, 0.001)
    reg = RegionalPressure(t, 1000.0, {r: np.where((t >= 0.05) & (t <= 0.3), 0.1, 0.0) for r in REGIONS})  # fmt: skip
    loads = derive_loads(reg, _grf(cop=10.0, fx=-200.0), model, 70.0)  # COP behind the ankle
    assert all(p.achilles is not None and p.achilles.force_n == 0.0 for p in loads.phases)


def test_apply_loads_replaces_region_and_achilles_loads_only() -> None:
    spec = SubjectSpec.model_validate({
        "id": "s", "trial": "T1", "geometry": {"type": "foot_template"},
        "materials": {"m": {"E": 1.0, "nu": 0.3}}, "sections": [{"part": "soft_tissue", "material": "m"}],
        "phases": [{"name": "initial_contact", "pressures": [{"surface": "toes", "value": 9.0},
                                                            {"surface": "skin", "value": 0.01}]},
                   {"name": "mid_stance"}, {"name": "push_off"}],
    })  # fmt: skip
    model = GeometricAchillesModel(FootShankGeometry())
    t = np.arange(0, 0.4, 0.001)
    reg = RegionalPressure(t, 1000.0, {r: np.where((t >= 0.05) & (t <= 0.3), 0.1, 0.0) for r in REGIONS})  # fmt: skip
    new = apply_loads(spec, derive_loads(reg, _grf(), model, 70.0))
    ic = new.phases[0]
    assert {p.surface: p.value for p in ic.pressures} == pytest.approx(
        {"skin": 0.01, **{r: 0.1 for r in REGIONS}}
    )
    assert [f.on for f in ic.forces] == ["achilles_insertion"]
    SubjectSpec.model_validate(new.model_dump(mode="json"))


def test_grf_csv_without_ankle_columns_assumes_and_says_so(tmp_path: Path) -> None:
    t = np.arange(0, 0.4, 0.001)
    fz = np.where((t >= 0.05) & (t <= 0.3), 1200.0, 0.0)
    rows = ["time_s,fx_n,fz_n,cop_x_mm"] + [f"{a:.3f},0,{b:.1f},150" for a, b in zip(t, fz, strict=True)]  # fmt: skip
    (tmp_path / "g.csv").write_text("\n".join(rows) + "\n")
    series, notes = read_grf_csv(str(tmp_path / "g.csv"), (58.0, 69.0))
    assert len(notes) == 2 and "flat" in notes[0] and "typical" in notes[1]
    np.testing.assert_allclose(series.r_x_mm[fz > 0], 150.0 - 58.0)
    np.testing.assert_allclose(series.r_z_mm, -69.0)
    with pytest.raises(GaitDataError, match="fz_n"):
        (tmp_path / "bad.csv").write_text("time_s,fx_n,fz,cop_x_mm\n0,0,0,0\n")
        read_grf_csv(str(tmp_path / "bad.csv"), (58.0, 69.0))


def test_regions_option() -> None:
    assert parse_regions("four") == {r: r for r in REGIONS}
    m = parse_regions("rearfoot=h,midfoot=m,forefoot=f,toes=t")
    assert m["rearfoot"] == "h" and m["toes"] == "t"


def test_cli_derive_writes_the_fragment(tmp_path: Path) -> None:
    _pressure_csv(tmp_path / "p.csv")
    out = tmp_path / "loads.yaml"
    res = CliRunner().invoke(app, ["derive", str(tmp_path / "p.csv"), "--regions", "four", "--out", str(out), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    frag = yaml.safe_load(out.read_text())
    po = frag["phases"][2]
    assert po["name"] == "push_off"
    assert {p["surface"]: p["value"] for p in po["pressures"]}["rearfoot"] == pytest.approx(0.275)
    res = CliRunner().invoke(app, ["derive", str(tmp_path / "p.csv"), "--grf", "x.csv", "--out", str(out)])  # fmt: skip
    assert res.exit_code != 0
