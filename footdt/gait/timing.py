"""Stride timing from one foot's gait events: the load cues a foot sensor sees without integrating.

From the initial contacts (IC) and toe-offs (TO) of consecutive strides of one foot (s):

- ``contact_time`` (s): TO - IC of the stride;
- ``stride_time`` (s): IC to the next IC of the same foot (the last stride, and a gap left by a
  dropped stride, take the median of the other strides);
- ``step_time`` (s): half the stride time (one foot's sensor cannot see the other foot's contact;
  running is close to symmetric);
- ``flight_time`` (s): step time - contact time, the time both feet are off the ground;
- ``cadence`` (steps/min): 60 / step time.

Vertical impulse over a step equals body weight x step time (constant speed), so the mean force
over a contact is about BW x step time / contact time: contact and flight time set the vertical
load per body weight (Clark, Ryan & Weyand 2017, J Exp Biol 220:247). The same function serves
training (``footdt.learn.dataset``, from the strides a window file keeps) and prediction
(``footdt.twin.predict``, from the strides it windows), so both see the same numbers.
"""

from __future__ import annotations

from typing import Final

import numpy as np

#: Timing features and their units (static inputs of a network, in this order).
TIMING_UNITS: Final[dict[str, str]] = {
    "contact_time": "s",
    "step_time": "s",
    "stride_time": "s",
    "flight_time": "s",
    "cadence": "steps/min",
}
TIMING_FEATURES: Final[tuple[str, ...]] = tuple(TIMING_UNITS)

#: A gap between kept strides longer than this x the median stride is a dropped stride.
_GAP = 1.5


def stride_timing(ic_s: np.ndarray, to_s: np.ndarray) -> dict[str, np.ndarray]:
    """Per-stride timing (see the module docstring) of strides with ``ic_s``/``to_s`` (s)."""
    ic, to = np.asarray(ic_s, dtype=float), np.asarray(to_s, dtype=float)
    if ic.ndim != 1 or ic.shape != to.shape or len(ic) == 0:
        raise ValueError(f"need equal, non-empty 1-D IC and TO times, got {ic.shape}, {to.shape}")
    contact = to - ic
    stride = np.full(len(ic), np.nan)
    if len(ic) > 1:
        d = np.diff(ic)
        ok = d > 0
        med = float(np.median(d[ok])) if ok.any() else np.nan
        d[~ok | (d > _GAP * med)] = np.nan
        stride[:-1] = d
    if not np.isfinite(stride).any():
        raise ValueError(
            f"stride time needs two consecutive strides of one foot; got {len(ic)} stride(s) "
            "with no usable IC-to-IC interval"
        )
    fill = float(np.nanmedian(stride))
    stride = np.where(np.isfinite(stride), stride, fill)
    step = 0.5 * stride
    return {
        "contact_time": contact,
        "step_time": step,
        "stride_time": stride,
        "flight_time": step - contact,
        "cadence": 60.0 / step,
    }


def timing_matrix(ic_s: np.ndarray, to_s: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """(n_strides, len(names)) of the named timing features (names from ``TIMING_FEATURES``)."""
    t = stride_timing(ic_s, to_s)
    return np.stack([t[n] for n in names], axis=1) if names else np.zeros((len(ic_s), 0))
