"""The synthetic cohort: reproducible, the paper's proportions, realistic signals and loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from footdt.cohort.generate import generate, save_npz
from footdt.cohort.manifest import load_manifest
from footdt.cohort.runners import strike_classes
from footdt.cohort.spec import CohortSpec, load_cohort_spec
from footdt.errors import FootdtError
from footdt.gait.events import detect_events
from footdt.gait.pressure import REGIONS
from footdt.gait.recording import G, Recording
from footdt.spec.geometry import Personalised
from footdt.spec.loader import load_spec
from footdt.spec.subject import SubjectSpec
from tests.cohort.conftest import cohort_spec_text, write_template


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _generation(d: Path) -> dict:
    return json.loads((d / "generation.json").read_text())


def test_same_seed_gives_identical_files(tmp_path: Path, small_cohort: Path) -> None:
    write_template(tmp_path)
    (tmp_path / "c.yaml").write_text(cohort_spec_text())
    generate(load_cohort_spec(tmp_path / "c.yaml"), tmp_path / "again")
    a, b = _files(small_cohort), _files(tmp_path / "again")
    assert sorted(a) == sorted(b)
    assert all(a[k] == b[k] for k in a), [k for k in a if a[k] != b[k]]


def test_other_seed_differs_and_earlier_runners_do_not_depend_on_cohort_size(
    tmp_path: Path,
) -> None:
    write_template(tmp_path)
    (tmp_path / "a.yaml").write_text(cohort_spec_text(n=2, trials=1, seed=11))
    (tmp_path / "b.yaml").write_text(cohort_spec_text(n=2, trials=1, seed=12))
    generate(load_cohort_spec(tmp_path / "a.yaml"), tmp_path / "a")
    generate(load_cohort_spec(tmp_path / "b.yaml"), tmp_path / "b")
    ma, mb = load_manifest(tmp_path / "a"), load_manifest(tmp_path / "b")
    assert ma.subjects[0].body_mass_kg != mb.subjects[0].body_mass_kg
    assert _files(tmp_path / "a")["R001/T1/imu.npz"] != _files(tmp_path / "b")["R001/T1/imu.npz"]


def test_npz_writer_is_deterministic(tmp_path: Path) -> None:
    arr = {"windows": np.arange(12.0).reshape(2, 3, 2)}
    save_npz(tmp_path / "a.npz", arr)
    save_npz(tmp_path / "b.npz", arr)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz") as z:
        np.testing.assert_array_equal(z["windows"], arr["windows"])


@pytest.mark.parametrize("n", [50, 17, 4])
def test_rearfoot_fraction_is_the_papers(n: int) -> None:
    classes = strike_classes(CohortSpec(n_runners=n, seed=3))
    n_rfs = classes.count("rearfoot")
    assert n_rfs == round(0.76 * n)
    if n == 50:
        assert n_rfs == 38  # the paper: 38 RFS, 12 NRFS


def test_manifest_windows_and_groups(small_cohort: Path) -> None:
    m = load_manifest(small_cohort)
    gen = _generation(small_cohort)
    assert m.seed == 11 and len(m.subjects) == 4
    assert [s.group for s in m.subjects].count("rearfoot") == 3
    for s, g in zip(m.subjects, gen["subjects"], strict=True):
        assert s.id == g["id"] and s.group == g["group"]
        assert (g["strike_class"] == "rearfoot") == (s.group == "rearfoot")
        assert s.foot_length_mm is not None
        assert 0.13 < s.foot_length_mm / (1000 * s.height_m) < 0.17
        for t in s.trials:
            with np.load(small_cohort / t.imu) as z:
                w = z["windows"]
                assert w.dtype == np.float32 and w.shape[1:] == (300, 6)
                assert np.isfinite(w).all() and w.shape[0] >= 6
                assert list(z["channels"]) == [
                    "foot_ax", "foot_ay", "foot_az", "tibia_ax", "tibia_ay", "tibia_az",
                ]  # fmt: skip
                assert z["stance_time_s"].shape == (w.shape[0],)
            si = g["trials"][t.id]["strike_index"]
            assert (si <= 1 / 3) == (s.group == "rearfoot")


def test_detect_events_finds_every_synthetic_stride(small_cohort: Path) -> None:
    m = load_manifest(small_cohort)
    errors = []
    for s in m.subjects:
        for t in s.trials:
            with np.load(small_cohort / t.imu) as z:
                rec = Recording(np.arange(len(z["recording"])) / float(z["recording_rate_hz"]),
                                float(z["recording_rate_hz"]),
                                {"foot": z["recording"][:, :3], "tibia": z["recording"][:, 3:]})  # fmt: skip
                true_ic, true_to = z["true_ic_s"], z["true_to_s"]
            ev = detect_events(rec)
            assert len(ev.strides) == len(true_ic), (s.id, t.id)
            ic = np.array([st.ic_s for st in ev.strides])
            to = np.array([st.to_s for st in ev.strides])
            e_ic = np.array([np.min(np.abs(ic - c)) for c in true_ic])
            assert (e_ic < 0.1).all(), (s.id, t.id, e_ic)  # matched as in the RBDS check
            errors.append(np.median(e_ic))
            # TO is the fall of |a| into its dip: at the force-plate TO on RBDS001 (the dip ~25-35
            # ms after it), but here the generator's dip comes ~11 ms before its TO and the fall
            # into it ~30-40 ms before (docs/gait.md), so TO comes out that early
            assert np.median([np.min(np.abs(to - c)) for c in true_to]) < 0.045
    # the detector takes the impact peak of |a| as IC: on RBDS001's marker-derived sensors (no
    # impact transient) it is within 20 ms; here the impact follows the lower limb's arrest,
    # which peaks ~20-25 ms after contact (two-mass model, docs/cohort.md), so IC is that late
    assert np.median(errors) < 0.03


def test_signals_within_reference_ranges(small_cohort: Path) -> None:
    gen = _generation(small_cohort)
    trials = [(s["strike_class"], t) for s in gen["subjects"] for t in s["trials"].values()]
    stance = np.array([t["stance_s"] for _, t in trials])
    assert ((stance >= 0.2) & (stance <= 0.3)).all()  # REFERENCE: 0.2-0.3 s
    active = np.array([t["grf_peak_bw"] for _, t in trials])
    assert ((active > 2.0) & (active < 3.1)).all() and 2.2 < np.median(active) < 2.9
    impact = [t["impact_peak_bw"] for c, t in trials if c == "rearfoot"]
    assert all(x is not None and 1.1 < x < 2.3 for x in impact)  # RFS: ~1.4-2.1 BW
    assert all(t["impact_peak_bw"] is None for c, t in trials if c == "forefoot")
    tibia = np.array([t["peak_g"]["tibia"] for _, t in trials])
    assert 5.0 <= np.median(tibia) <= 10.0 and (tibia < 14.0).all()  # peak tibial ~5-10 g
    lr = {g: np.median([t["loading_rate_bw_s"] for h, t in trials if (h == "rearfoot") == (g == "rfs")]) for g in ("rfs", "other")}  # fmt: skip
    assert lr["rfs"] > 1.5 * lr["other"]


def test_generation_records_every_state_and_hidden_factor(small_cohort: Path) -> None:
    from footdt.cohort.spec import Hidden
    from footdt.cohort.state import GaitState

    gen = _generation(small_cohort)
    names = set(GaitState.__dataclass_fields__)
    for s in gen["subjects"]:
        assert set(Hidden.model_fields) <= set(s["hidden"])
        assert all(isinstance(v, float) for v in s["hidden"].values())
        for tid, t in s["trials"].items():
            assert set(t["plate_state"]) == names
            assert len(t["stride_states"]) == t["n_true_strides"] == len(t["strides"])
            assert t["plate_state"] == t["stride_states"][t["plate_stride"]]
            ps = t["plate_state"]
            assert ps["flight_s"] == pytest.approx(ps["step_s"] - ps["contact_s"])
            assert t["stance_s"] == pytest.approx(ps["contact_s"])
            with np.load(small_cohort / s["id"] / tid / "imu.npz") as z:
                np.testing.assert_allclose(z["true_to_s"] - z["true_ic_s"], z["true_contact_s"])
                np.testing.assert_allclose(
                    z["true_step_s"] - z["true_contact_s"], z["true_flight_s"]
                )
                assert np.diff(z["true_ic_s"]) == pytest.approx(2 * z["true_step_s"][:-1])


def test_achilles_and_spec_loads(small_cohort: Path) -> None:
    gen = _generation(small_cohort)
    m = load_manifest(small_cohort)
    assert gen["achilles_method"]
    for s, g in zip(m.subjects, gen["subjects"], strict=True):
        for t in s.trials:
            rec = g["trials"][t.id]
            # REFERENCE: ~6-10 BW; the hidden moment arm (SD 12 %) and co-contraction widen it
            assert 4.5 <= rec["achilles_peak_bw"] <= 13.0
            spec = load_spec(small_cohort / t.spec).spec
            assert isinstance(spec, SubjectSpec) and isinstance(spec.geometry, Personalised)
            assert spec.id == s.id and spec.trial == t.id
            assert spec.geometry.measurements is not None
            assert spec.geometry.measurements["foot_length"] == pytest.approx(
                s.foot_length_mm, abs=0.01
            )
            soft = spec.materials["soft_tissue"].E
            assert soft == pytest.approx(1.15 * g["hidden"]["tissue_stiffness"], rel=1e-4)
            assert spec.connectors[0].stiffness == pytest.approx(200 * g["hidden"]["fascia_stiffness"], rel=1e-4)  # fmt: skip
            # the pressure loads are the phase means of pressure.csv (fixed bounds 20/55 %)
            assert t.pressure is not None
            df = pd.read_csv(small_cohort / t.pressure)
            tt = df["time_s"].to_numpy()
            on = np.flatnonzero(df[list(REGIONS)].sum(axis=1).to_numpy() > 5.0)
            ic, to = tt[on[0]], tt[on[-1]]
            cuts = {
                "initial_contact": (0.0, 0.2),
                "mid_stance": (0.2, 0.55),
                "push_off": (0.55, 1.0),
            }
            for ph in spec.phases:
                a, b = cuts[ph.name]
                sel = (tt >= ic + a * (to - ic)) & (tt <= ic + b * (to - ic))
                got = {p.surface: p.value for p in ph.pressures}
                for r in REGIONS:
                    assert got[r] == pytest.approx(df[r].to_numpy()[sel].mean() / 1000.0, abs=2e-6)
                (force,) = [f for f in ph.forces if f.on == "achilles_insertion"]
                bw = s.body_mass_kg * G
                assert np.linalg.norm(force.total) / bw == pytest.approx(rec["achilles_bw"][ph.name], rel=1e-3)  # fmt: skip
            mid = next(p for p in spec.phases if p.name == "mid_stance")
            assert any(p.surface == "plantar" for p in mid.pressures)  # other loads are kept


def test_refuses_non_empty_directory_and_missing_template(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("")
    spec = CohortSpec(n_runners=1, trials=1, template=tmp_path / "nope.yaml")
    with pytest.raises(FootdtError, match="not empty"):
        generate(spec, tmp_path / "out")
    with pytest.raises(FootdtError, match="template subject spec not found"):
        generate(spec, tmp_path / "new")
