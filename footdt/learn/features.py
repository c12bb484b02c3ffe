"""Simple IMU features for the ridge baseline (no fitting: a fixed function of one stride).

Per sensor (foot, tibia), from windows (n_strides, 300, channels) in m/s^2 with 100 time-normalised
samples per stance phase:

- ``{sensor}_peak_norm``: peak resultant |a| over the stance (m/s^2), when the sensor has >= 2 axes;
- ``{sensor}_{axis}_peak``: peak |a| of each axis (m/s^2);
- ``{sensor}_loading_rate``: the largest rise of the ``az`` (vertical-ish) axis between consecutive
  samples in the first phase (initial contact). Without stance times the windows are
  time-normalised, so the unit is m/s^2 per sample (1 % of the phase); with stance times it is
  m/s^3 (mean sample interval = stance time / number of samples);
- ``stance_time_s``: stance time (s), only when the IMU file provides ``stance_time_s``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from footdt.domain import SENSORS


def imu_features(
    windows: np.ndarray,
    channels: Sequence[str],
    stance_time_s: np.ndarray | None = None,
    samples_per_phase: int | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Features (n_strides, F) and their names for windows (n_strides, T, len(channels))."""
    w = np.asarray(windows, dtype=np.float64)
    if w.ndim != 3 or w.shape[2] != len(channels):
        raise ValueError(f"windows of shape {w.shape} do not match channels {list(channels)}")
    n, t, _ = w.shape
    first = samples_per_phase or t // 3
    cols: list[np.ndarray] = []
    names: list[str] = []
    for sensor in SENSORS:
        idx = [i for i, c in enumerate(channels) if c.startswith(f"{sensor}_")]
        if not idx:
            continue
        if len(idx) >= 2:
            cols.append(np.sqrt((w[:, :, idx] ** 2).sum(axis=2)).max(axis=1))
            names.append(f"{sensor}_peak_norm")
        for i in idx:
            cols.append(np.abs(w[:, :, i]).max(axis=1))
            names.append(f"{channels[i]}_peak")
        if f"{sensor}_az" in channels:
            az = w[:, :first, list(channels).index(f"{sensor}_az")]
            rate = np.diff(az, axis=1).max(axis=1)
            if stance_time_s is not None:
                rate = rate / (np.asarray(stance_time_s, dtype=np.float64) / t)
            cols.append(rate)
            names.append(f"{sensor}_loading_rate")
    if stance_time_s is not None:
        cols.append(np.asarray(stance_time_s, dtype=np.float64).reshape(n))
        names.append("stance_time_s")
    return np.stack(cols, axis=1) if cols else np.zeros((n, 0)), names
