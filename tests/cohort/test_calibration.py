"""Calibration: published ranges (sources in footdt.cohort.calibrate.PUBLISHED and docs/cohort.md),
the speed response, and the force balance of the pressures on the FE model's own regions."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from footdt.cohort.calibrate import PUBLISHED, cohort_summary, speed_response
from footdt.cohort.spec import CohortSpec
from footdt.domain import PLANTAR_REGIONS
from footdt.gait.phases import DEFAULT_BOUNDS
from tests.cohort.conftest import write_template


@pytest.fixture(scope="module")
def calibration_cohort(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """30 runners x 1 trial (seed 2025): enough runners for between-runner statistics."""
    from footdt.cohort.generate import generate

    d = tmp_path_factory.mktemp("calibration")
    spec = CohortSpec(seed=2025, n_runners=30, trials=1, strides_per_trial=10,
                      template=write_template(d))  # fmt: skip
    generate(spec, d / "out")
    return json.loads((d / "out" / "generation.json").read_text())


#: The cohorts the PTA-loading-rate correlations are tested on, pooled: r from one 30-runner
#: cohort (~23 rearfoot runners) has a sampling SD of ~0.13-0.15 (seed 2025 between-runner r
#: 0.70, seed 7 0.35 with the same generator), so the published ranges are tested on the
#: runners of all four (~90 rearfoot runners; SD of r ~0.07). The seeds of
#: benchmarks/study_landing.py's calibration, none of its held-out striker seeds.
POOLED_SEEDS = (2025, 7, 11, 12)


@pytest.fixture(scope="module")
def pooled_subjects(calibration_cohort: dict, tmp_path_factory: pytest.TempPathFactory) -> list:
    """The generation records of the runners of four 30-runner cohorts (``POOLED_SEEDS``)."""
    from footdt.cohort.generate import generate

    subjects = list(calibration_cohort["subjects"])
    for seed in POOLED_SEEDS[1:]:
        d = tmp_path_factory.mktemp(f"calibration_{seed}")
        spec = CohortSpec(seed=seed, n_runners=30, trials=1, strides_per_trial=10,
                          template=write_template(d))  # fmt: skip
        generate(spec, d / "out")
        subjects += json.loads((d / "out" / "generation.json").read_text())["subjects"]
    return subjects


def _in(value: float, key: str) -> bool:
    lo, hi, _ = PUBLISHED[key]
    return lo <= value <= hi


@pytest.mark.slow  # a 30-runner cohort (~20-40 s)
def test_grf_within_published_ranges(calibration_cohort: dict) -> None:
    s = cohort_summary(calibration_cohort)
    for key in ("active_peak_bw", "impact_peak_bw_rearfoot", "loading_rate_bw_s_rearfoot", "achilles_peak_bw"):  # fmt: skip
        assert _in(s[key]["median"], key), (key, s[key])
        # most trials, not only the median (the hidden moment arm, CV 12 %, spreads the Achilles)
        assert s[key]["in_range"] >= (0.6 if key == "achilles_peak_bw" else 0.7), (key, s[key])
    assert s["impact_peak_bw_rearfoot"]["with_impact"] >= 0.9


@pytest.mark.slow  # four 30-runner cohorts (~60-120 s)
def test_tibial_acceleration_tracks_loading_rate(pooled_subjects: list) -> None:
    """PTA as the published studies measure it: the peak resultant of a 1 kHz reference tibial
    accelerometer (``pta_ref_g``, not the cohort's 100 Hz sensor, which samples the ~20 ms
    tibial impact too coarsely). Between rearfoot runners r 0.35-0.7 (hidden coupling and
    effective mass keep it moderate); within a rearfoot runner, stride by stride, median r
    0.5-0.9 (the same touchdown drives both): on the rearfoot runners of the four pooled
    cohorts (``POOLED_SEEDS``). The published samples are rearfoot strikers; across strike
    types the strike pattern shifts both (reported, not tested)."""
    from footdt.cohort.calibrate import pta_loading_rate

    s = pta_loading_rate(pooled_subjects)
    assert s["pta"] == "pta_ref_g" and s["n_rearfoot_runners"] >= 80, s
    assert _in(s["between_r"], "pta_lr_between_r"), s
    assert _in(s["within_r"]["median"], "pta_lr_within_r"), s


@pytest.mark.slow  # a 30-runner cohort (~20-40 s)
def test_stride_to_stride_variation_is_realistic(calibration_cohort: dict) -> None:
    """CVs within RBDS001's and Alcantara 2022's (benchmarks/results/cohort_calibration.json):
    contact 1.7-3.1 %, step 1.3-3.6 %, active peak 2.7-3.5 %, loading rate 11-20 %, impact
    4-8 %, marker tibia peak 6 %; the synthetic ones within about a factor 2 of those."""
    cv = cohort_summary(calibration_cohort)["stride_cv"]
    assert 0.01 <= cv["contact_s"] <= 0.04 and 0.008 <= cv["step_s"] <= 0.04
    assert 0.01 <= cv["active_peak_bw"] <= 0.05 and 0.05 <= cv["loading_rate_bw_s"] <= 0.25
    assert 0.03 <= cv["impact_peak_bw"] <= 0.12 and 0.03 <= cv["peak_tibia_g"] <= 0.15


def test_speed_response_matches_rbds001() -> None:
    """2.5 -> 3.5 m/s, same runners: RBDS001 contact -17 %, step -9 %, active peak +12 %,
    loading rate +40 %; Achilles peak rises with speed (PUBLISHED)."""
    r = speed_response(CohortSpec(seed=7, n_runners=6), n_strides=12)
    c = r["change"]
    assert -0.24 < c["contact_s"] < -0.12 and -0.13 < c["step_s"] < -0.04
    assert 0.05 < c["active_peak_bw"] < 0.2 and 0.15 < c["loading_rate_bw_s"] < 0.6
    assert c["peak_tibia_g"] > 0.0 and c["achilles_peak_bw"] > 0.0
    assert r["achilles_rises_fraction"] >= 0.8


def test_region_pressure_times_fe_area_is_the_vertical_grf(small_cohort: Path) -> None:
    """Issue 13: for every phase of a generated trial, sum over regions of (phase pressure x
    the region's area on the FE model the trial's spec builds) = the generated vertical GRF
    (mean over the same samples) within 1 %."""
    from footdt.ir import TET_FACES
    from footdt.shape.personalise import personalise
    from footdt.spec.loader import load_spec

    trial = small_cohort / "R001" / "T1"
    spec = load_spec(trial / "spec.yaml").spec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mesh, _ = personalise(spec.geometry, spec.mesh)  # the FE model's own foot
    area = {}
    for r in PLANTAR_REGIONS:
        f = mesh.surfaces[r]
        p = mesh.nodes[np.take_along_axis(mesh.elements[f[:, 0], :4], np.asarray(TET_FACES)[f[:, 1]], axis=1)]  # fmt: skip
        area[r] = (
            0.5 * np.abs(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])[:, 2]).sum()
        )  # on the ground
    press = pd.read_csv(trial / "pressure.csv")
    grf = pd.read_csv(trial / "grf.csv")
    t = press["time_s"].to_numpy()
    fz = np.interp(t, grf["time_s"], grf["fz_n"])
    on = np.flatnonzero(press[list(PLANTAR_REGIONS)].sum(axis=1).to_numpy() > 5.0)
    ic, to = t[on[0]], t[on[-1]]
    phases = {p.name: p for p in spec.phases}
    for name, (a, b) in DEFAULT_BOUNDS.intervals_fractions().items() if hasattr(DEFAULT_BOUNDS, "intervals_fractions") else {
        "initial_contact": (0.0, DEFAULT_BOUNDS.ic_end), "mid_stance": (DEFAULT_BOUNDS.ic_end, DEFAULT_BOUNDS.push_start),
        "push_off": (DEFAULT_BOUNDS.push_start, 1.0)}.items():  # fmt: skip
        sel = (t >= ic + a * (to - ic)) & (t <= ic + b * (to - ic))
        loads = {p.surface: p.value for p in phases[name].pressures}
        force = sum(loads[r] * area[r] for r in PLANTAR_REGIONS)  # MPa x mm^2 = N
        assert force == pytest.approx(fz[sel].mean(), rel=0.01), name
        # and sample by sample, from the plate file itself
        inst = sum(press[r].to_numpy()[sel] / 1000.0 * area[r] for r in PLANTAR_REGIONS)
        np.testing.assert_allclose(inst, fz[sel], rtol=0.01, atol=2.0)
