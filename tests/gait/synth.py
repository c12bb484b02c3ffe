"""A running-like two-sensor signal with known initial contacts and toe-offs (test fixture).

Per stride (right-foot segment frames, specific force in m/s^2): gravity's reaction along the
segment's tilted z axis; a late-swing deceleration along -x growing into contact; the landing:
from IC the impact (foot 7 g, tibia 5 g along z) and the deceleration last ``ARREST_S`` (25 ms,
RBDS001: the steepest fall of |a| comes 23-27 ms after force-plate contact), then both end within
a few ms, followed by a short decaying ring; foot-flat quiet at ~1 g; a push-off bump; at TO
the release: |a| drops (steepest at TO + ``RELEASE_S``) into a near-free-fall dip (~0.2 g,
lowest ~25 ms after TO, as on RBDS001); an early-swing peak; and white noise (0.03 g). The tibia leans 20 deg forward and tilts 12 deg medially (+y) at
mid-stance, like RBDS001. IC and TO are placed off the sample grid on purpose.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from footdt.gait.events import IC_OFFSETS_S, TO_OFFSETS_S
from footdt.gait.recording import G, Recording

#: Contact to the end of the landing (s): where the detector's steepest fall of |a| lies.
ARREST_S = IC_OFFSETS_S["foot+tibia"]
#: TO to the steepest drop of |a| at the release (s): where the detector's TO feature lies.
RELEASE_S = TO_OFFSETS_S["foot+tibia"]


def _bump(t: np.ndarray, centre: np.ndarray, sigma: float) -> np.ndarray:
    """Sum of unit Gaussians centred at ``centre`` (s)."""
    return np.exp(-0.5 * ((t[:, None] - centre[None, :]) / sigma) ** 2).sum(axis=1)


def _landing(t: np.ndarray, ic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(deceleration envelope, impact envelope), each 0..1: the deceleration grows over the
    last ~60 ms of swing, both are held from contact and end at contact + ARREST_S."""
    dec, imp = np.zeros_like(t), np.zeros_like(t)
    for c in ic:
        u = t - c
        end = 0.5 * (1.0 - np.tanh((u - ARREST_S) / 0.006))  # logistic, 3 ms scale
        dec += np.where(u < 0, np.exp(-((u / 0.06) ** 2)), 1.0) * end
        imp += 0.5 * (1.0 + np.tanh(u / 0.004)) * end
    return dec, imp


def running_signal(
    n_strides: int = 12,
    rate_hz: float = 100.0,
    stride_s: float = 0.72,
    stance_s: float = 0.27,
    seed: int = 0,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """(time s, {sensor: (n, 3) m/s^2}, true IC s, true TO s)."""
    rng = np.random.default_rng(seed)
    duration = (n_strides + 1.5) * stride_s
    t = np.arange(int(duration * rate_hz)) / rate_hz
    ic = 0.5 + np.arange(n_strides) * stride_s + rng.uniform(-0.02, 0.02, n_strides) + 0.0037
    to = ic + stance_s + rng.uniform(-0.01, 0.01, n_strides)
    stance = np.zeros_like(t, bool)
    for a, b in zip(ic, to, strict=True):
        stance |= (t >= a) & (t <= b)
    out = {}
    for name, spike, lean, medial in (("foot", 7.0, 0.0, 0.0), ("tibia", 5.0, 20.0, 12.0)):
        pitch = np.where(
            stance, np.radians(lean), np.radians(lean + 25.0) * np.sin(2 * np.pi * t / stride_s)
        )
        roll = np.where(stance, np.radians(medial), 0.0)
        grav = (
            np.stack(
                [-np.sin(pitch), np.sin(roll) * np.cos(pitch), np.cos(roll) * np.cos(pitch)], 1
            )
            * G
        )
        u = t[:, None] - (to + RELEASE_S)[None, :]  # release: a drop, then the swing recovers
        release = 0.5 * (1.0 + np.tanh(u / 0.006)) * np.exp(-np.maximum(u, 0) / 0.04)
        dip = 1.0 - 0.8 * release.sum(axis=1)
        a = grav * dip[:, None]
        dec, imp = _landing(t, ic)
        a[:, 0] -= 3.0 * G * dec  # late-swing deceleration, arrested by the ground
        a[:, 2] += spike * G * imp  # impact
        ring = np.zeros_like(t)
        for c in ic:
            d = t - c - ARREST_S
            ring += np.where(d > 0.01, np.exp(-d / 0.02) * np.sin(2 * np.pi * 30 * d), 0.0)
        a[:, 2] += 0.8 * G * ring
        a[:, 0] += 1.0 * G * _bump(t, to - 0.06, 0.02)  # push-off
        a[:, 0] += 1.5 * G * _bump(t, to + 0.07, 0.02)  # early swing
        a[:, 2] += 1.2 * G * _bump(t, to + 0.07, 0.02)
        a += rng.normal(0.0, 0.03 * G, a.shape)
        out[name] = a
    return t, out, ic, to


def running_recording(**kwargs: float) -> tuple[Recording, np.ndarray, np.ndarray]:
    t, acc, ic, to = running_signal(**kwargs)  # type: ignore[arg-type]
    return Recording(t, 1.0 / (t[1] - t[0]), acc, source="synthetic"), ic, to


COLUMNS = ("foot_ax", "foot_ay", "foot_az", "tibia_ax", "tibia_ay", "tibia_az")
SENSOR_ARGS = ["foot=foot_ax,foot_ay,foot_az", "tibia=tibia_ax,tibia_ay,tibia_az"]


def write_csv(
    path: Path, t: np.ndarray, acc: dict[str, np.ndarray], *, units: str = "g", sep: str = ",",
    time: bool = True, time_name: str = "time",
) -> Path:  # fmt: skip
    """Write the six channels (in ``units``) and optionally a time column."""
    f = 1.0 / G if units == "g" else 1.0
    data = np.concatenate([acc["foot"], acc["tibia"]], axis=1) * f
    cols = list(COLUMNS)
    if time:
        data = np.concatenate([t[:, None], data], axis=1)
        cols = [time_name, *cols]
    with open(path, "w") as fh:
        fh.write(sep.join(cols) + "\n")
        for row in data:
            fh.write(sep.join("nan" if np.isnan(v) else f"{v:.6f}" for v in row) + "\n")
    return path


def treadmill_force(
    n_steps: int = 40,
    rate_hz: float = 1000.0,
    step_s: float = 0.36,
    contact_s: float = 0.25,
    bw_n: float = 700.0,
    baseline_n: float = 0.0,
    drift_n: float = 0.0,
    noise_n: float = 0.0,
    sign: float = 1.0,
    merged: tuple[int, ...] = (),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertical force (N) of one treadmill plate under both feet, alternating right (even
    steps) and left: each contact a half-sine whose impulse is BW x step time (peak ~2.3 BW),
    on a baseline that drifts linearly by ``drift_n`` over the trial, plus white noise; the
    recording starts and ends inside a contact (two incomplete ones). Steps in ``merged`` last
    long enough to overlap the next one (no flight between the two feet).
    Returns (force, complete contacts (n, 2) [start, end] s, right (bool per contact))."""
    rng = np.random.default_rng(seed)
    t0 = -0.1  # the first contact started before the recording
    n = int((t0 + (n_steps - 1) * step_s + 0.5 * contact_s) * rate_hz)  # ends mid-contact
    t = np.arange(n) / rate_hz
    f = np.zeros(n)
    spans = []
    for k in range(n_steps):
        a = t0 + k * step_s + rng.uniform(-0.005, 0.005)
        d = contact_s * (1.9 if k in merged else 1.0)
        amp = bw_n * step_s * np.pi / (2 * contact_s)
        u = (t - a) / d
        f += np.where((u > 0) & (u < 1), amp * np.sin(np.pi * np.clip(u, 0, 1)), 0.0)
        spans.append((a, a + d))
    f += baseline_n + drift_n * t / t[-1] + rng.normal(0.0, noise_n, n)
    spans_a = np.array(spans)
    complete = (spans_a[:, 0] > 0) & (spans_a[:, 1] < t[-1])
    right = np.arange(n_steps) % 2 == 0
    return sign * f, spans_a[complete], right[complete]
