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
    from footdt.cohort.state import mean_state
    from tests.cohort.test_stance import gait

    p = StanceParams(mean_state(gait(), 3.0), 68.0, 265.0)
    s = np.linspace(0, 1, 201)
    g = FootShankGeometry()
    r = ankle_lever_mm(s, p, g.ankle_mm)
    bw = p.body_weight_n
    m = plantarflexion_moment_nm(ap_grf_bw(s, p) * bw, vertical_grf_bw(s, p) * bw, r[:, 0], r[:, 1])
    f = achilles_force_n(GeometricAchillesModel(g), m, ankle_deg(s, p)) / bw
    assert 6.0 <= f.max() <= 10.0  # REFERENCE: ~6-10 BW
    assert 0.4 <= s[np.argmax(f)] <= 0.65  # near mid-stance to 60 % of stance


def test_runner_achilles_scales_the_arm_and_adds_cocontraction() -> None:
    from footdt.gait.achilles import RunnerAchilles

    base = GeometricAchillesModel(FootShankGeometry())
    runner = RunnerAchilles(base, arm_scale=0.8, cocontraction=0.1)
    assert float(runner.moment_arm_mm(10.0)) == pytest.approx(0.8 * float(base.moment_arm_mm(10.0)))
    f0 = achilles_force_n(base, np.array([100.0, -5.0]), np.array([10.0, 10.0]))
    f1 = achilles_force_n(runner, np.array([100.0, -5.0]), np.array([10.0, 10.0]))
    assert f1[0] == pytest.approx(f0[0] * 1.1 / 0.8) and f1[1] == 0.0
    np.testing.assert_allclose(runner.line_of_action(5.0), base.line_of_action(5.0))
