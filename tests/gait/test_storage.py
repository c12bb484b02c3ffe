"""OpenSim Storage files (.mot GRF, inverse-dynamics and static-optimisation .sto) as loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from footdt.cli.loads import app
from footdt.gait.achilles import FootShankGeometry, GeometricAchillesModel
from footdt.gait.loads import derive_loads, grf_from_mot
from footdt.gait.pressure import REGIONS, RegionalPressure
from footdt.gait.recording import G, GaitDataError
from footdt.gait.storage import read_achilles_sto, read_grf_mot, read_storage

T = np.arange(0.0, 0.8, 0.005)  # 200 Hz, two stances: 0.05-0.30 s and 0.45-0.70 s
ON = ((T >= 0.05) & (T <= 0.30)) | ((T >= 0.45) & (T <= 0.70))


def write_storage(path: Path, columns: dict[str, np.ndarray], name: str = "results",
                  header_rows: int | None = None) -> Path:  # fmt: skip
    """An OpenSim Storage file: name, version, nRows, nColumns, inDegrees, endheader, labels."""
    labels = ["time", *columns]
    data = np.column_stack([T, *columns.values()])
    rows = len(data) if header_rows is None else header_rows
    lines = [name, "version=1", f"nRows={rows}", f"nColumns={len(labels)}", "inDegrees=no",
             "endheader", "\t".join(labels)]  # fmt: skip
    lines += ["\t".join(f"{v:.8f}" for v in row) for row in data]
    path.write_text("\n".join(lines) + "\n")
    return path


def grf_mot(path: Path, prefix: str = "ground_force_r_", fy: float = 1800.0) -> Path:
    z = np.zeros_like(T)
    return write_storage(path, {
        f"{prefix}vx": np.where(ON, 120.0, 0.0), f"{prefix}vy": np.where(ON, fy, 0.0),
        f"{prefix}vz": z, f"{prefix}px": np.where(ON, 1.2, 0.0), f"{prefix}py": z,
        f"{prefix}pz": np.where(ON, 0.1, 0.0), "ground_torque_r_y": z,
    }, "run_grf.mot")  # fmt: skip


def _pressure() -> RegionalPressure:
    return RegionalPressure(T, 200.0, {r: np.where(ON, 0.1, 0.0) for r in REGIONS})


def test_storage_header_and_table(tmp_path: Path) -> None:
    st = read_storage(grf_mot(tmp_path / "g.mot"))
    assert st.name == "run_grf.mot" and st.header["inDegrees"] == "no"
    assert st.table.columns[0] == "time" and len(st.table) == len(T)
    with pytest.raises(GaitDataError, match="nRows=999 but the file has 160 data rows"):
        read_storage(write_storage(tmp_path / "t.sto", {"a": T}, header_rows=999))
    (tmp_path / "x.sto").write_text("time,a\n0,1\n")
    with pytest.raises(GaitDataError, match="no 'endheader' line"):
        read_storage(tmp_path / "x.sto")


def test_reads_what_opensim_writes(tmp_path: Path) -> None:
    """The reader against OpenSim's own STOFileAdapter (skipped without opensim)."""
    osim = pytest.importorskip("opensim")
    table = osim.TimeSeriesTable()
    table.setColumnLabels(["ankle_angle_r_moment", "knee_angle_r_moment"])
    for i, t in enumerate(T[:20]):
        table.appendRow(float(t), osim.RowVector([-float(i), 2.0 * i]))
    osim.STOFileAdapter.write(table, str(tmp_path / "id.sto"))
    st = read_storage(tmp_path / "id.sto")
    np.testing.assert_allclose(st.time, T[:20])
    np.testing.assert_allclose(st.column("ankle_angle_r_moment"), -np.arange(20.0))


def test_inverse_dynamics_moment_gives_the_achilles_force(tmp_path: Path) -> None:
    """ID's ankle_angle_r_moment is dorsiflexion-positive: -150 N m in stance is a 150 N m
    plantarflexion moment, over the moment arm at the phase's (typical) ankle angle."""
    model = GeometricAchillesModel(FootShankGeometry())
    sto = write_storage(tmp_path / "id.sto", {"ankle_angle_r_moment": np.where(ON, -150.0, 0.0),
                                              "knee_angle_r_moment": np.zeros_like(T)})  # fmt: skip
    series = read_achilles_sto(sto, "right")
    assert series.columns == ("ankle_angle_r_moment",) and series.force_n is None
    grf = grf_from_mot(read_grf_mot(grf_mot(tmp_path / "g.mot"), "right"), (58.0, 69.0))
    loads = derive_loads(_pressure(), grf, model, 70.0, achilles=series)
    ms = loads.phase("mid_stance").achilles
    assert ms is not None and ms.moment_nm == pytest.approx(150.0, rel=1e-6)
    assert ms.force_n == pytest.approx(150e3 / float(model.moment_arm_mm(ms.ankle_deg)), rel=1e-6)
    assert ms.force_bw == pytest.approx(ms.force_n / (70.0 * G))
    assert loads.meta["n_grf_stances"] == 2 and loads.meta["achilles_columns"] == [
        "ankle_angle_r_moment"
    ]


def test_static_optimisation_forces_are_summed(tmp_path: Path) -> None:
    model = GeometricAchillesModel(FootShankGeometry())
    sto = write_storage(tmp_path / "so.sto", {
        "soleus_l": np.where(ON, 1500.0, 0.0), "med_gas_l": np.where(ON, 500.0, 0.0),
        "lat_gas_l": np.where(ON, 300.0, 0.0), "tib_ant_l": np.where(ON, 50.0, 0.0),
    })  # fmt: skip
    series = read_achilles_sto(sto, "left")
    assert series.columns == ("soleus_l", "med_gas_l", "lat_gas_l")
    grf = grf_from_mot(
        read_grf_mot(grf_mot(tmp_path / "g.mot", "ground_force_l_"), "left"), (58.0, 69.0)
    )
    loads = derive_loads(_pressure(), grf, model, 70.0, achilles=series)
    assert all(
        p.achilles is not None and p.achilles.force_n == pytest.approx(2300.0) for p in loads.phases
    )


@pytest.mark.parametrize(
    ("columns", "needle"),
    [
        ({"ankle_angle_r_moment": np.where(ON, -150e3, 0.0)}, "N mm? divide by 1000"),
        ({"ankle_angle_r_moment": np.where(ON, -2.1, 0.0)}, "multiply by the body mass"),
        ({"ankle_angle_r_moment": np.where(ON, 150.0, 0.0)}, "sign of the ankle coordinate"),
        ({"soleus_r": np.where(ON, 1.5, 0.0)}, "kN? multiply by 1000"),
        ({"soleus_r": np.where(ON, -300.0, 0.0)}, "muscles only pull"),
        ({"knee_angle_r_moment": T}, "neither an ankle moment"),
        ({"med_gas_r": np.where(ON, 900.0, 0.0)}, "without soleus_r"),
    ],
)
def test_units_and_columns_are_checked(tmp_path: Path, columns: dict, needle: str) -> None:
    model = GeometricAchillesModel(FootShankGeometry())
    grf = grf_from_mot(read_grf_mot(grf_mot(tmp_path / "g.mot"), "right"), (58.0, 69.0))
    with pytest.raises(GaitDataError) as err:
        series = read_achilles_sto(write_storage(tmp_path / "a.sto", columns), "right")
        derive_loads(_pressure(), grf, model, 70.0, achilles=series)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_grf_columns_and_units(tmp_path: Path) -> None:
    with pytest.raises(GaitDataError, match="no GRF columns .* pass --grf-prefix"):
        read_grf_mot(grf_mot(tmp_path / "g.mot", "1_ground_force_"), "right")
    assert (
        read_grf_mot(
            grf_mot(tmp_path / "p.mot", "1_ground_force_"), "right", "1_ground_force_"
        ).fz_n.max()
        == 1800.0
    )
    with pytest.raises(GaitDataError, match="not a running GRF in N"):
        read_grf_mot(grf_mot(tmp_path / "kn.mot", fy=1.8), "right")
    with pytest.raises(GaitDataError, match="vertical axis points down"):
        read_grf_mot(grf_mot(tmp_path / "neg.mot", fy=-1800.0), "right")


def test_cli_derive_from_opensim_files(tmp_path: Path) -> None:
    lines = ["time," + ",".join(REGIONS)]
    lines += [
        f"{t:.3f}," + ",".join("100.0" if on else "0.0" for _ in REGIONS)
        for t, on in zip(T, ON, strict=True)
    ]
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    mot = grf_mot(tmp_path / "g.mot")
    sto = write_storage(tmp_path / "id.sto", {"ankle_angle_r_moment": np.where(ON, -150.0, 0.0)})
    out = tmp_path / "loads.yaml"
    base = [
        "derive",
        str(tmp_path / "p.csv"),
        "--grf",
        str(mot),
        "--body-mass",
        "70",
        "--out",
        str(out),
    ]
    res = CliRunner().invoke(
        app, [*base, "--achilles-sto", str(sto), "--achilles", "geometric", "--json"]
    )
    assert res.exit_code == 0, res.output
    frag = yaml.safe_load(out.read_text())
    assert frag["phases"][1]["forces"][0]["on"] == "achilles_insertion"
    res = CliRunner().invoke(app, base)
    assert res.exit_code != 0 and "lab frame" in res.output and "--achilles-sto" in res.output
    res = CliRunner().invoke(
        app, [*base[:4], "--body-mass", "70000", "--out", str(out), "--achilles-sto", str(sto)]
    )
    assert res.exit_code != 0 and "is it in g?" in res.output
