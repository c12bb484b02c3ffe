"""The synthetic landing options (``footdt.cohort.imu.Landing``, issue 14): the held forward
arrest removes the touchdown velocity and continues the swing's deceleration through contact;
the relative felt impact adds no velocity change of its own."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.cohort.imu import (
    ARREST_X_FADE,
    DEFAULT_LANDING,
    FINE_HZ,
    LEGACY_LANDING,
    Cycle,
    Landing,
    _arrest_x,
    impact_acceleration,
    soft_tissue,
)
from footdt.cohort.stance import StanceParams
from footdt.cohort.state import mean_state
from tests.cohort.test_stance import gait


def test_held_forward_arrest_removes_the_touchdown_velocity() -> None:
    dv, t_mid = 1.5, 0.026
    t = np.arange(0.0, 0.06, 1e-5)
    x = _arrest_x(t, dv, t_mid)
    v, a = np.gradient(x, t), np.gradient(np.gradient(x, t), t)
    assert v[0] == pytest.approx(dv, rel=1e-3) and abs(v[-1]) < 1e-3 and abs(x[-1]) < 1e-9
    assert a[5] == pytest.approx(-dv / t_mid, rel=1e-3)  # held at its level from IC
    rise = np.gradient(a, t)
    steepest = t[50 + int(np.argmax(rise[50:-50]))]
    assert steepest == pytest.approx(t_mid, abs=2e-4)
    assert abs(a[t > t_mid * (1 + ARREST_X_FADE / 2) + 1e-4]).max() < 1e-3  # over by then


def _x_acc_around_ic(landing: Landing) -> tuple[float, float]:
    """Ankle x acceleration (m/s^2) 2 ms before and 2 ms after an IC."""
    states = [mean_state(gait(), 3.0) for _ in range(3)]
    p = [StanceParams(s, 70.0, 265.0) for s in states]
    before, after = Cycle(p[0], p[1], landing), Cycle(p[1], p[2], landing)
    h = 1.0 / FINE_HZ
    stride = before.stride_s
    tb = np.array([-4, -3, -2, -1, 0]) * h + stride - 1e-6  # up to the IC, in the first cycle
    ta = np.array([2, 3, 4]) * h
    xb = before("x", tb / stride)
    xa = after("x", ta / after.stride_s)
    return float(np.gradient(np.gradient(xb, h), h)[2]), float((xa[0] - 2 * xa[1] + xa[2]) / h**2)


def test_held_forward_arrest_continues_the_swing_deceleration_through_contact() -> None:
    # at the cohort's mean state the held level (touchdown_vx / t_mid) is within 15 % of the
    # eased swing's end deceleration; strides away from the mean step to it at IC
    pre, post = _x_acc_around_ic(Landing("held", "net"))
    assert pre < -30.0 and post == pytest.approx(pre, rel=0.15)


@pytest.mark.parametrize("speed", [2.5, 3.0, 3.5])
def test_held_late_swing_deceleration_is_largest_at_contact(speed: float) -> None:
    # the eased late swing (LATE_SWING_EASE) grows into contact, so |a| does not peak tens of ms
    # before it (the ramp-plateau shape did: first ICs missed by the detector)
    s = mean_state(gait(), speed)
    p = StanceParams(s, 70.0, 265.0)
    cyc = Cycle(p, p, Landing())
    t = np.arange(0.0, cyc.stride_s, 1.0 / FINE_HZ)
    acc = np.gradient(np.gradient(cyc("x", t / cyc.stride_s), t), t)
    swing = t > cyc.duty * cyc.stride_s + 0.02
    assert cyc.stride_s - t[swing][np.argmin(acc[swing])] < 0.004
    pre0, post0 = _x_acc_around_ic(LEGACY_LANDING)
    assert abs(post0 - pre0) > 0.5 * abs(pre0)  # the legacy landing steps (arrest from zero)


def test_the_default_landing_is_the_rbds001_like_one() -> None:
    assert DEFAULT_LANDING == Landing("held", "relative") == Landing()
    assert Landing("raised_cosine", "net") == LEGACY_LANDING


def test_relative_felt_impact_has_no_net_velocity_change() -> None:
    states = [mean_state(gait(), 3.0) for _ in range(3)]
    p = [StanceParams(s, 70.0, 265.0) for s in states]
    t = np.arange(0.0, 0.4, 1.0 / FINE_HZ)
    impact = impact_acceleration(t, p[1:2], np.array([0.05]))
    felt = soft_tissue(impact, 30.0, 0.4)
    dv_net = np.trapezoid(felt[:, 2], t)
    dv_rel = np.trapezoid(felt[:, 2] - impact[:, 2], t)
    assert dv_net == pytest.approx(states[1].touchdown_v_m_s, rel=0.02)
    assert abs(dv_rel) < 0.01 * dv_net


def test_landing_options_are_checked() -> None:
    with pytest.raises(ValueError, match="forward_arrest"):
        Landing("sudden", "net")
    with pytest.raises(ValueError, match="felt_impact"):
        Landing("held", "all")
