"""Reference contacts from a force plate, and matching detected events against them.

``contacts_from_force``: a contact is a run of vertical force above ``threshold_n`` (N); runs
separated by less than ``merge_s`` are one contact (treadmill chatter near zero force), runs
shorter than ``min_contact_s`` are dropped, and so are contacts touching the start or end of the
recording (incomplete). On and off times are interpolated linearly at the threshold crossing.

``match_events``: each reference time is matched to the nearest detected time within
``tolerance_s``; unmatched references are misses, unmatched detections false detections.
Errors are detected minus reference (s): positive means late.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def contacts_from_force(
    fz: np.ndarray,
    rate_hz: float,
    threshold_n: float = 20.0,
    merge_s: float = 0.02,
    min_contact_s: float = 0.08,
    t0_s: float = 0.0,
) -> np.ndarray:
    """``(n, 2)`` contact [on, off] times in s from a vertical force (N)."""
    above = np.asarray(fz) > threshold_n
    d = np.diff(np.r_[0, above.astype(np.int8), 0])
    runs = [
        [int(a), int(b)]
        for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True)
    ]
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and (a - merged[-1][1]) / rate_hz < merge_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    n = len(above)
    for a, b in merged:
        if a == 0 or b >= n or (b - a) / rate_hz < min_contact_s:
            continue
        on = a - 1 + (threshold_n - fz[a - 1]) / (fz[a] - fz[a - 1])  # crossing between a-1 and a
        off = b - 1 + (fz[b - 1] - threshold_n) / (fz[b - 1] - fz[b])  # between b-1 and b
        out.append((t0_s + on / rate_hz, t0_s + off / rate_hz))
    return np.array(out, float).reshape(-1, 2)


@dataclass(frozen=True)
class Match:
    """Errors (s, detected - reference) of matched events, misses and false detections."""

    errors_s: np.ndarray
    missed_s: np.ndarray
    false_s: np.ndarray

    def summary(self) -> dict[str, float | int | None]:
        """Counts, median signed error, median and 95th percentile absolute error (ms)."""
        e = self.errors_s * 1e3
        has = len(e) > 0
        return {
            "n_reference": int(len(e) + len(self.missed_s)),
            "n_matched": len(e),
            "n_missed": len(self.missed_s),
            "n_false": len(self.false_s),
            "median_error_ms": float(np.median(e)) if has else None,
            "median_abs_error_ms": float(np.median(np.abs(e))) if has else None,
            "p95_abs_error_ms": float(np.percentile(np.abs(e), 95)) if has else None,
            "max_abs_error_ms": float(np.max(np.abs(e))) if has else None,
        }


def match_events(
    detected: np.ndarray,
    reference: np.ndarray,
    tolerance_s: float = 0.1,
    within: tuple[float, float] | None = None,
) -> Match:
    """Greedy one-to-one nearest matching within ``tolerance_s``. With ``within`` (s), only
    detections inside that span count (outside it the reference has no contacts to offer)."""
    det = np.sort(np.asarray(detected, float))
    if within is not None:
        det = det[(det >= within[0]) & (det <= within[1])]
    ref = np.sort(np.asarray(reference, float))
    used = np.zeros(len(det), bool)
    errors, missed = [], []
    for r in ref:
        free = np.flatnonzero(~used)
        if len(free):
            j = free[int(np.argmin(np.abs(det[free] - r)))]
            if abs(det[j] - r) <= tolerance_s:
                used[j] = True
                errors.append(det[j] - r)
                continue
        missed.append(r)
    return Match(np.array(errors), np.array(missed), det[~used])
