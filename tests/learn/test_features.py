from __future__ import annotations

import numpy as np

from footdt.learn.features import imu_features

CH = ("foot_ax", "foot_ay", "foot_az", "tibia_ax", "tibia_ay", "tibia_az")


def test_features_by_hand() -> None:
    w = np.zeros((1, 300, 6))
    w[0, 10, 2] = 30.0  # foot az spike in the first phase: rise 30 in one sample
    w[0, 150, 0] = -40.0  # foot ax, negative peak
    w[0, 20, 3:6] = (3.0, 4.0, 12.0)  # tibia: |a| = 13
    w[0, 250, 5] = 50.0  # tibia az peak in push-off: not in the loading rate
    f, names = imu_features(w, CH)
    got = dict(zip(names, f[0], strict=True))
    assert (
        got["foot_peak_norm"] == 40.0
        and got["foot_ax_peak"] == 40.0
        and got["foot_az_peak"] == 30.0
    )
    assert got["foot_loading_rate"] == 30.0
    assert got["tibia_peak_norm"] == 50.0 and got["tibia_az_peak"] == 50.0
    assert got["tibia_loading_rate"] == 12.0
    assert "stance_time_s" not in got


def test_stance_time_turns_loading_rate_into_m_s3() -> None:
    w = np.zeros((2, 300, 6))
    w[:, 10, 2] = 30.0
    f, names = imu_features(w, CH, stance_time_s=np.array([0.3, 0.15]))
    k = names.index("foot_loading_rate")
    np.testing.assert_allclose(f[:, k], [30.0 / 0.001, 30.0 / 0.0005])
    np.testing.assert_allclose(f[:, names.index("stance_time_s")], [0.3, 0.15])
