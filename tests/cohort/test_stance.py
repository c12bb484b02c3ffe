"""The synthetic stance obeys mechanics: impulses, force balance of the pressure, COP start."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.cohort.stance import (
    REGION_FRACTIONS,
    StanceParams,
    _support,
    ap_grf_bw,
    cop_fraction,
    regional_pressure_mpa,
    vertical_grf_bw,
)


def params(strike_index: float, **kw: float) -> StanceParams:
    base = dict(
        body_mass_kg=70.0, foot_length_mm=265.0, foot_width_mm=100.0, arch_height_mm=40.0,
        stance_s=0.25, step_s=0.35, strike_index=strike_index, impact_bw=1.6, impact_at=0.12,
        impact_width=0.03, peak_at=0.44, active_shape=1.6, ap_bw=0.3, cop_end=0.88,
        pitch_ic_deg=7.0 if strike_index < 0.33 else -9.0, pitch_to_deg=-40.0, foot_flat_at=0.3,
        heel_off_at=0.5, ankle_ic_deg=3.0, ankle_peak_deg=19.0, ankle_to_deg=-18.0,
    )  # fmt: skip
    base.update(kw)
    return StanceParams(**base)


@pytest.mark.parametrize("si", [0.15, 0.72])
def test_impulses(si: float) -> None:
    p = params(si)
    s = np.linspace(0, 1, 4001)
    # vertical impulse of a step = body weight x step time (no net vertical motion)
    assert np.trapezoid(vertical_grf_bw(s, p), s) * p.stance_s == pytest.approx(p.step_s, rel=1e-4)
    assert np.trapezoid(ap_grf_bw(s, p), s) == pytest.approx(0.0, abs=1e-6)  # constant speed
    assert cop_fraction(np.array([0.0]), p)[0] == pytest.approx(si)


def test_impact_peak_only_for_rearfoot_strikers() -> None:
    s = np.linspace(0, 1, 2001)
    for si, has in ((0.15, True), (0.72, False)):
        fz = vertical_grf_bw(s, params(si))
        early = fz[s < 0.3]
        local_max = np.flatnonzero((early[1:-1] > early[:-2]) & (early[1:-1] >= early[2:]))
        assert bool(len(local_max)) == has
        if has:
            assert fz[local_max[0] + 1] == pytest.approx(1.6, abs=0.1)


def test_regional_pressure_carries_the_vertical_force() -> None:
    p = params(0.2, arch_height_mm=48.0)
    s = np.linspace(0.01, 0.99, 40)
    press = regional_pressure_mpa(s, p)
    x = (np.arange(240) + 0.5) / 240
    width, _ = _support(p, x)
    area = {r: width[(x >= a) & (x < b)].sum() * p.foot_length_mm / 240 for r, (a, b) in REGION_FRACTIONS.items()}  # fmt: skip
    force = sum(press[r] * area[r] for r in press)  # N
    np.testing.assert_allclose(force, vertical_grf_bw(s, p) * p.body_weight_n, rtol=1e-9)
    assert press["rearfoot"][0] > press["forefoot"][0]  # heel first
    assert press["forefoot"][-5] > press["rearfoot"][-5]  # push-off on the forefoot
