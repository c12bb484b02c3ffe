"""Stride timing from one foot's events (footdt.gait.timing), by hand."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.gait.timing import TIMING_FEATURES, stride_timing, timing_matrix


def test_timing_by_hand_with_a_dropped_stride() -> None:
    ic = np.array([0.0, 0.7, 1.4, 2.8, 3.5])  # the stride at 2.1 s was dropped (flagged)
    to = ic + 0.25
    t = stride_timing(ic, to)
    np.testing.assert_allclose(t["stride_time"], 0.7)  # the 1.4 s gap and the last take the median
    np.testing.assert_allclose(t["contact_time"], 0.25)
    np.testing.assert_allclose(t["step_time"], 0.35)
    np.testing.assert_allclose(t["flight_time"], 0.10)
    np.testing.assert_allclose(t["cadence"], 60 / 0.35)
    assert timing_matrix(ic, to, TIMING_FEATURES).shape == (5, len(TIMING_FEATURES))


def test_a_single_stride_has_no_stride_time() -> None:
    with pytest.raises(ValueError, match="two consecutive strides"):
        stride_timing(np.array([1.0]), np.array([1.25]))
