"""Achilles moment arm (OpenSim and its named geometric fallback) and force."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from footdt.errors import FootdtError
from footdt.gait.achilles import (
    GEOMETRIC_NAME,
    FootShankGeometry,
    GeometricAchillesModel,
    achilles_force_n,
    achilles_model,
    opensim_available,
    plantarflexion_moment_nm,
)

needs_opensim = pytest.mark.skipif(not opensim_available(), reason="opensim not installed")


def test_geometric_moment_arm_in_reference_range() -> None:
    arm = GeometricAchillesModel(FootShankGeometry()).moment_arm_mm(np.arange(-30, 31, 5.0))
    assert ((arm > 38.0) & (arm < 55.0)).all()  # REFERENCE: ~40-55 mm
    assert arm[np.argmin(np.abs(np.arange(-30, 31, 5.0) - 25))] < arm[6]  # shorter in dorsiflexion


def test_moment_arm_scales_with_foot_length() -> None:
    small = GeometricAchillesModel(FootShankGeometry(230.0)).moment_arm_mm(0.0)
    large = GeometricAchillesModel(FootShankGeometry(290.0)).moment_arm_mm(0.0)
    assert small < large


@needs_opensim
def test_opensim_model_matches_the_closed_form_of_the_same_path() -> None:
    g = FootShankGeometry.for_subject(270.0, 1.8)
    osm = achilles_model(g, "opensim")
    assert osm.method.startswith("opensim")
    angles = np.array([-25.0, -10.0, 0.0, 10.0, 20.0])
    np.testing.assert_allclose(osm.moment_arm_mm(angles), GeometricAchillesModel(g).moment_arm_mm(angles), atol=1e-6)  # fmt: skip
    d = osm.line_of_action(10.0)
    assert d[1] == 0.0 and d[2] > 0.9 and np.linalg.norm(d) == pytest.approx(1.0)


def test_auto_falls_back_loudly_and_opensim_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opensim", None)  # import opensim -> ImportError
    with pytest.warns(UserWarning, match="geometric fallback"):
        model = achilles_model(FootShankGeometry())
    assert model.method == GEOMETRIC_NAME
    with pytest.raises(FootdtError, match="pip install opensim"):
        achilles_model(FootShankGeometry(), "opensim")


def test_plantarflexion_moment_sign() -> None:
    # GRF 1000 N up, 100 mm in front of the ankle, ankle 70 mm above ground: 100 N m
    assert plantarflexion_moment_nm(0.0, 1000.0, 100.0, -70.0) == pytest.approx(100.0)
    # a propulsive (forward) GRF below the ankle adds to it; braking subtracts
    assert plantarflexion_moment_nm(100.0, 1000.0, 100.0, -70.0) == pytest.approx(107.0)
    assert plantarflexion_moment_nm(0.0, 1000.0, -20.0, -70.0) < 0  # COP behind the ankle
    model = GeometricAchillesModel(FootShankGeometry())
    f = achilles_force_n(model, np.array([100.0, -5.0]), np.array([0.0, 0.0]))
    assert f[0] == pytest.approx(100_000.0 / float(model.moment_arm_mm(0.0))) and f[1] == 0.0


def test_synthetic_stance_peaks_at_6_to_10_body_weights() -> None:
    from footdt.cohort.stance import (
        StanceParams,
        ankle_deg,
        ankle_lever_mm,
        ap_grf_bw,
        vertical_grf_bw,
    )

    p = StanceParams(
        body_mass_kg=68.0, foot_length_mm=265.0, foot_width_mm=100.0, arch_height_mm=40.0,
        stance_s=0.26, step_s=0.36, strike_index=0.18, impact_bw=1.6, impact_at=0.12,
        impact_width=0.03, peak_at=0.44, active_shape=1.6, ap_bw=0.3, cop_end=0.88,
        pitch_ic_deg=7.0, pitch_to_deg=-40.0, foot_flat_at=0.3, heel_off_at=0.5,
        ankle_ic_deg=3.0, ankle_peak_deg=19.0, ankle_to_deg=-18.0,
    )  # fmt: skip
    s = np.linspace(0, 1, 201)
    g = FootShankGeometry()
    r = ankle_lever_mm(s, p, g.ankle_mm)
    bw = p.body_weight_n
    m = plantarflexion_moment_nm(ap_grf_bw(s, p) * bw, vertical_grf_bw(s, p) * bw, r[:, 0], r[:, 1])
    f = achilles_force_n(GeometricAchillesModel(g), m, ankle_deg(s, p)) / bw
    assert 6.0 <= f.max() <= 10.0  # REFERENCE: ~6-10 BW
    assert 0.4 <= s[np.argmax(f)] <= 0.65  # near mid-stance to 60 % of stance
