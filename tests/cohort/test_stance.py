"""The synthetic stance obeys mechanics: impulses, force balance of the pressure, COP start; the
gait state sets the loads (two-mass model)."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.cohort.generate import grf_stats
from footdt.cohort.sole import Sole
from footdt.cohort.stance import (
    StanceParams,
    ap_grf_bw,
    cop_fraction,
    impact_grf_bw,
    regional_pressure_mpa,
    vertical_grf_bw,
)
from footdt.cohort.state import GaitState, RunnerGait, mean_state, strike_index
from footdt.domain import PLANTAR_REGIONS, plantar_region
from footdt.gait.recording import G


def gait(strike_class: str = "rearfoot", **kw: float) -> RunnerGait:
    base = dict(
        strike_class=strike_class, height_m=1.76, preferred_speed_m_s=3.0, cadence_offset_hz=0.0,
        contact_factor=1.0, foot_angle_ic_deg=8.0 if strike_class == "rearfoot" else -8.0,
        touchdown_v_m_s=2.4, arrest_s=0.023, touchdown_ratio=0.5, arrest_x_s=0.06,
        shank_ic_deg=-5.0, ankle_peak_deg=19.0, ankle_to_deg=-18.0, foot_flat_frac=0.32,
        heel_off_frac=0.5, toe_off_pitch_deg=-40.0, braking_impulse_bw_s=0.025,
        active_peak_frac=0.44, active_shape=1.5, cop_end_frac=0.88, landing_m=0.27,
        kick_extra_m=0.0, cv={},
    )  # fmt: skip
    base.update(kw)
    return RunnerGait(**base)  # type: ignore[arg-type]


def params(state: GaitState, **kw: float) -> StanceParams:
    return StanceParams(state, 70.0, 265.0, **kw)


def flat_sole(n: int = 400) -> Sole:
    """A rectangle-ish sole 265 x 90 mm split by the domain's regions (cells of n x 30)."""
    u, w = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(30) + 0.5) / 30, indexing="ij")
    inside = (u > 0.04) & (u < 0.97)
    area = np.full(u.shape, 265.0 / n * 90.0 / 30)
    return Sole(u[inside], area[inside], plantar_region(u, w)[inside], 265.0, "test rectangle")


@pytest.mark.parametrize("strike", ["rearfoot", "forefoot"])
def test_impulses(strike: str) -> None:
    st = mean_state(gait(strike), 3.0)
    p = params(st)
    s = np.linspace(0, 1, 8001)
    # vertical impulse of a step = body weight x step time (contact + flight; no net vertical motion)
    assert np.trapezoid(vertical_grf_bw(s, p), s) * st.contact_s == pytest.approx(
        st.step_s, rel=1e-3
    )
    assert st.flight_s == pytest.approx(st.step_s - st.contact_s)
    # the lower limb's impulse m1 x touchdown velocity is part of it
    j1 = np.trapezoid(impact_grf_bw(s, p), s) * st.contact_s
    assert j1 == pytest.approx(0.08 * st.touchdown_v_m_s / G, rel=1e-3)
    ap = ap_grf_bw(s, p)
    assert np.trapezoid(ap, s) * st.contact_s == pytest.approx(0.0, abs=1e-4)  # constant speed
    assert -np.trapezoid(np.minimum(ap, 0), s) * st.contact_s == pytest.approx(st.braking_impulse_bw_s, rel=0.01)  # fmt: skip
    assert cop_fraction(np.array([0.0]), p)[0] == pytest.approx(st.strike_index)


def test_impact_follows_touchdown_velocity_and_arrest_time() -> None:
    """Two-mass model: a faster touchdown or a quicker arrest raises impact peak and loading
    rate; the active peak follows contact and flight time."""
    base = grf_stats(params(mean_state(gait(), 3.0)))
    faster = grf_stats(params(mean_state(gait(touchdown_v_m_s=2.8), 3.0)))
    quicker = grf_stats(params(mean_state(gait(arrest_s=0.018), 3.0)))
    assert base["impact_peak_bw"] is not None
    for other in (faster, quicker):
        assert other["impact_peak_bw"] > base["impact_peak_bw"]
        assert other["loading_rate_bw_s"] > base["loading_rate_bw_s"]
    shorter = grf_stats(params(mean_state(gait(contact_factor=0.92), 3.0)))
    assert shorter["active_peak_bw"] > base["active_peak_bw"]
    heavier_limb = grf_stats(params(mean_state(gait(), 3.0), effective_mass_ratio=0.09))
    assert heavier_limb["impact_peak_bw"] > base["impact_peak_bw"]


def test_strike_index_follows_the_foot_angle() -> None:
    assert strike_index("rearfoot", 15.0) < strike_index("rearfoot", 5.0) <= 0.30
    assert 0.36 <= strike_index("midfoot", 0.0) <= 0.60
    assert strike_index("forefoot", -12.0) > strike_index("forefoot", -5.0) >= 0.62


def test_regional_pressure_carries_the_vertical_force() -> None:
    """Region pressure x region area (the sole's own areas) = vertical GRF at every instant."""
    sole = flat_sole()
    p = params(mean_state(gait(), 3.0))
    s = np.linspace(0.0, 1.0, 60)
    press = regional_pressure_mpa(s, p, sole)
    area = sole.region_areas_mm2()
    force = sum(press[r] * area[r] for r in PLANTAR_REGIONS)  # N
    np.testing.assert_allclose(force, vertical_grf_bw(s, p) * p.body_weight_n, rtol=1e-9, atol=1e-9)
    assert press["rearfoot"][1] > press["forefoot"][1]  # heel first
    assert press["forefoot"][-5] > press["rearfoot"][-5]  # push-off on the forefoot


def test_hidden_load_sharing_moves_load_between_regions() -> None:
    sole = flat_sole()
    st = mean_state(gait(), 3.0)
    s = np.linspace(0.3, 0.7, 9)
    more_arch = regional_pressure_mpa(s, params(st, load_midfoot=1.5), sole)
    less_arch = regional_pressure_mpa(s, params(st, load_midfoot=0.6), sole)
    assert (more_arch["midfoot"] > less_arch["midfoot"]).all()
    more_toes = regional_pressure_mpa(s, params(st, load_toes=1.5), sole)
    assert (more_toes["toes"] > more_arch["toes"]).all()
