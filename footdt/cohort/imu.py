"""Synthetic foot-dorsum and distal-tibia accelerometers from a sagittal shank-foot kinematic model.

Per stride (phase ``phi`` in [0, 1), stance ``0 <= phi <= d``), in a frame moving with the runner
(x forward, y left, z up; m, s). Four quantities describe a stride: the ankle centre's x and z,
the shank's forward lean and the ankle's dorsiflexion (foot pitch = ankle - lean).

- **Stance** (closed form, ``footdt.cohort.stance``): the foot rocks about its first contact
  point, lies flat, then rolls over the metatarsal heads while the ground moves backwards at the
  running speed; the ankle is carried by the foot; the shank leans forward steadily.
- **Touchdown**: the ankle lands still moving forward/down over the ground (``touchdown_m_s``,
  RBDS001: it is nearly at rest relative to the pelvis at contact); the ground arrests that
  velocity within ``arrest_s`` (deceleration largest at contact, fading to 0).
- **Swing**: cubic splines through key frames, leaving TO and reaching IC with the stance's
  slopes (C1: the acceleration steps where the ground force appears and vanishes). Key frames
  follow RBDS001's shank and ankle paths: the ankle keeps moving back after TO, rises to the
  kick height at 38 % of swing, the shank leans furthest at 42 %; the forward swing builds up
  its acceleration over the first 20 % of swing (the leg leaves the ground nearly ballistic,
  hence |a| < 1 g at TO), holds it, and turns into a deceleration growing to its peak at
  contact over the last ``LATE_SWING_S``.
- Stride time varies smoothly (``stride_cv``); each sensor point's acceleration is the second
  derivative of its path (1 kHz), gravity's reaction (+9.81 m/s^2 up) is added (specific force),
  and the result is expressed in the sensor's axes: its segment's axes (the tibia tilted
  medially by ``tibia_roll_deg`` +- 3 deg, the foot rolling +- 5 deg), times a small mounting
  rotation; the mounting point is offset too (misplacement).
- **Soft-tissue shock**: at each contact a 16 ms half-sine along the segment's long axis (and
  backwards), then a damped 25 Hz ring; amplitude ``impact_g`` (``generate.impact_amplitudes_g``:
  from the loading rate and body mass) varying 8 % from stride to stride.
- **Sensor**: 2nd-order low-pass at ``bandwidth_hz``, sampled at ``rate_hz`` from a random
  sub-sample phase, white noise, a constant bias per axis, clipping at the range.

Output: specific force in m/s^2, channel order of ``footdt.cohort.manifest.WINDOW_CHANNELS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from footdt.cohort.stance import (
    StanceParams,
    ankle_deg,
    foot_pitch_deg,
    lean_deg,
    pivot_mm,
    rotate,
)
from footdt.gait.recording import G

FINE_HZ = 1000.0
#: The swing leg accelerates forward uniformly, then decelerates, harder and harder, over the
#: last LATE_SWING_S before contact (s; RBDS001 foot: -4 to -6 g over the last ~0.1 s).
LATE_SWING_S = 0.16


@dataclass(frozen=True)
class Mounting:
    """Where a sensor sits: point (m; foot: foot frame, heel at 0; tibia: shank frame from the
    ankle centre) and mounting rotation (3x3, segment axes -> sensor axes)."""

    point_m: np.ndarray
    rotation: np.ndarray


@dataclass(frozen=True)
class GaitParams:
    """One trial's gait: the stance, stride time (s), speed (m/s), stature (m), swing shape."""

    stance: StanceParams
    stride_s: float
    speed_m_s: float
    height_m: float
    landing_m: float  # ankle ahead of the hip at contact (m)
    kick_m: float  # highest ankle height in swing (m)
    tibia_roll_deg: float  # medial (frontal-plane) tilt of the tibia, +-3 deg over the stride
    touchdown_m_s: tuple[float, float] = (2.0, 0.7)  # ankle forward/down speed at contact
    arrest_s: tuple[float, float] = (0.07, 0.03)  # time the ground takes to stop it (x, z)
    stride_cv: float = 0.015


@dataclass(frozen=True)
class SensorModel:
    rate_hz: float = 100.0
    bandwidth_hz: float = 40.0
    noise_g: float = 0.03
    range_g: float = 16.0


def _slopes(f: Callable[[np.ndarray], np.ndarray], d: float) -> tuple[tuple[float, float], tuple[float, float]]:  # fmt: skip
    """(value, d/du) of a stance function of s at TO (start of swing) and at IC (its end), with
    u the swing fraction (ds/du = (1 - d) / d)."""
    h = 1e-4
    r = (1.0 - d) / d
    a = f(np.array([1.0 - 2 * h, 1.0 - h, 1.0]))
    b = f(np.array([0.0, h, 2 * h]))
    return (a[2], (3 * a[2] - 4 * a[1] + a[0]) / (2 * h) * r), (b[0], (-3 * b[0] + 4 * b[1] - b[2]) / (2 * h) * r)  # fmt: skip


def _forward_swing(x0: float, v0: float, x1: float, v1: float, tb: float, tr: float = 0.2) -> list[tuple[float, float]]:  # fmt: skip
    """Key frames (u, x) of a swing from (x0, v0) to (x1, v1) (per unit u): the forward
    acceleration builds up over ``tr`` after TO (the leg is nearly ballistic as it leaves the
    ground), holds until ``1 - tb``, then turns into a deceleration that grows linearly to its
    peak at contact (where the ground's arrest takes over)."""
    t1 = 1.0 - tb
    u = np.linspace(0.0, 1.0, 2001)
    ramp_up = np.clip(u / tr, 0.0, 1.0) * (u <= t1)
    ramp_dn = np.clip((u - t1) / tb, 0.0, 1.0)

    # x(1) and x'(1) are linear in (a1, a2): integrate each shape twice
    def ends(shape: np.ndarray) -> tuple[float, float]:
        vel = np.concatenate([[0.0], np.cumsum(0.5 * (shape[1:] + shape[:-1]) * np.diff(u))])
        pos = np.concatenate([[0.0], np.cumsum(0.5 * (vel[1:] + vel[:-1]) * np.diff(u))])
        return vel[-1], pos[-1]

    (va, xa), (vb, xb) = ends(ramp_up), ends(ramp_dn)
    a1, a2 = np.linalg.solve([[va, -vb], [xa, -xb]], [v1 - v0, x1 - x0 - v0])
    acc = a1 * ramp_up - a2 * ramp_dn
    vel = v0 + np.concatenate([[0.0], np.cumsum(0.5 * (acc[1:] + acc[:-1]) * np.diff(u))])
    pos = x0 + np.concatenate([[0.0], np.cumsum(0.5 * (vel[1:] + vel[:-1]) * np.diff(u))])
    return [(k, float(np.interp(k, u, pos))) for k in np.linspace(0.08, 0.96, 12)]


class Cycle:
    """One stride over phi in [0, 1): closed-form stance (``footdt.cohort.stance``), then a
    cubic spline through swing key frames with the stance's slopes at TO and IC (C1: the
    acceleration steps at TO and IC, where the ground force appears and vanishes).
    Quantities: ankle ``x``, ``z`` (m, runner frame, z above ground), shank ``lean`` and ankle
    dorsiflexion ``ankle`` (deg); foot pitch = ankle - lean."""

    def __init__(self, g: GaitParams) -> None:
        p = g.stance
        self.duty = d = p.stance_s / g.stride_s
        self._g = g
        ankle_local = np.array([0.22, 0.26]) * p.foot_length_mm  # as achilles.FootShankGeometry
        x0 = rotate(ankle_local[None], foot_pitch_deg(np.zeros(1), p), pivot_mm(np.zeros(1), p))[0]

        def ankle_xz(s: np.ndarray) -> np.ndarray:
            pitch, piv = foot_pitch_deg(s, p), pivot_mm(s, p)
            pos = rotate(np.broadcast_to(ankle_local, (len(s), 2)), pitch, piv)
            return (pos - x0 * [1.0, 0.0]) / 1000.0 + [g.landing_m, 0.0]

        self._stance = {
            "x": lambda s: ankle_xz(s)[:, 0] - g.speed_m_s * s * p.stance_s,
            "z": lambda s: ankle_xz(s)[:, 1],
            "lean": lambda s: lean_deg(s, p),
            "ankle": lambda s: ankle_deg(s, p),
        }
        ends = {k: _slopes(f, d) for k, f in self._stance.items()}
        # touchdown: the ankle lands moving forward/down relative to the ground by
        # ``touchdown_m_s`` (m/s; RBDS001: the ankle lands nearly at rest relative to the
        # pelvis, i.e. moving forward over the ground); the ground arrests that velocity within
        # ``arrest_s`` (velocity excess dv (1 - r)^2, r = time / arrest_s: the deceleration
        # jumps to 2 dv / arrest_s at contact and fades); the swing ends on the approach course
        tu = 1.0 - d  # swing duration per unit u, in units of phi
        self._arrest = {"x": g.arrest_s[0] / g.stride_s, "z": g.arrest_s[1] / g.stride_s}
        self._dv = {"x": g.touchdown_m_s[0] * g.stride_s, "z": -g.touchdown_m_s[1] * g.stride_s}
        for k, dv in self._dv.items():
            (y1, dy1) = ends[k][1]
            ends[k] = (ends[k][0], (y1 - dv * self._arrest[k] / 3.0, dy1 + dv * tu))
        (x_to, vx_to), (x_ic, vx_ic) = ends["x"]
        _, (z_ic, _) = ends["z"]
        (lean_to, _), (lean_ic, _) = ends["lean"]
        (ank_to, _), _ = ends["ankle"]
        # swing key frames after RBDS001's shank and ankle paths (2.5 m/s): the ankle keeps
        # moving back after TO, rises to the kick height at 38 % of swing, the shank leans
        # furthest (TO + 35 deg) at 42 %; the leg swings forward to rest ahead of the hip
        keys = {
            "x": _forward_swing(x_to, vx_to, x_ic, vx_ic, LATE_SWING_S / ((1.0 - d) * g.stride_s)),
            "z": [(0.38, g.kick_m), (0.65, z_ic + 0.55 * (g.kick_m - z_ic)),
                  (0.85, z_ic + 0.15 * (g.kick_m - z_ic))],
            "lean": [(0.42, lean_to + 35.0), (0.75, 12.0), (0.9, lean_ic - 3.0)],
            "ankle": [(0.15, ank_to - 8.0), (0.4, -6.0), (0.65, 3.0), (0.85, 4.0)],
        }  # fmt: skip
        self._swing = {}
        for k, ((y0, dy0), (y1, dy1)) in ends.items():
            u, y = zip(*[(0.0, y0), *keys[k], (1.0, y1)], strict=True)
            self._swing[k] = CubicSpline(u, y, bc_type=((1, dy0), (1, dy1)))

    def __call__(self, name: str, phi: np.ndarray) -> np.ndarray:
        ph = np.mod(phi, 1.0)
        d = self.duty
        st = ph <= d
        out = np.empty_like(ph)
        out[st] = self._stance[name](ph[st] / d)
        out[~st] = self._swing[name]((ph[~st] - d) / (1.0 - d))
        if name in self._dv:  # the arrest: velocity excess dv (1 - r)^2 integrated
            w, dv = self._arrest[name], self._dv[name]
            m = ph < w
            r = ph[m] / w
            out[m] += dv * w * (1.0 - (1.0 - r) ** 3) / 3.0 - dv * w / 3.0
        return out


def _phase(n_strides: int, stride_s: float, cv: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(t at 1 kHz, phi(t)) with a smoothly varying stride frequency; phi starts in mid-swing."""
    dur = (n_strides + 2.0) * stride_s * (1 + 5 * cv)
    t = np.arange(0.0, dur, 1.0 / FINE_HZ)
    eps = np.zeros_like(t)
    for _ in range(4):
        eps += rng.normal(0, cv / np.sqrt(2)) * np.sin(2 * np.pi * rng.uniform(0.1, 0.6) * t + rng.uniform(0, 2 * np.pi))  # fmt: skip
    phi = rng.uniform(0.55, 0.75) + np.cumsum((1.0 + eps) / stride_s) / FINE_HZ
    return t, phi


def _axes(pitch_deg: np.ndarray, roll_deg: np.ndarray, shank: bool) -> np.ndarray:
    """(n, 3, 3) segment axes as columns (x, y, z) in the runner frame."""
    a, r = np.radians(pitch_deg), np.radians(roll_deg)
    c, s = np.cos(a), np.sin(a)
    zero, one = np.zeros_like(a), np.ones_like(a)
    if shank:  # lean forward by pitch: long axis (sin, 0, cos), anterior (cos, 0, -sin)
        x, z = np.stack([c, zero, -s], -1), np.stack([s, zero, c], -1)
    else:  # foot pitched toes-up by pitch
        x, z = np.stack([c, zero, s], -1), np.stack([-s, zero, c], -1)
    y = np.stack([zero, one, zero], -1)
    y2 = np.cos(r)[:, None] * y + np.sin(r)[:, None] * z  # roll about x: +r tilts gravity to +y
    z2 = -np.sin(r)[:, None] * y + np.cos(r)[:, None] * z
    return np.stack([x, y2, z2], axis=-1)


def _transient(t: np.ndarray, ics: np.ndarray, amps: np.ndarray) -> np.ndarray:
    """Soft-tissue shock of each contact: a 16 ms half-sine pulse (peak 1 per
    unit amplitude, from IC), then a ring (damped 25 Hz, 30 % of the peak)."""
    out = np.zeros_like(t)
    w = 0.016
    for ic, a in zip(ics, amps, strict=True):
        tau = t - ic
        m = (tau >= 0) & (tau < w)
        out[m] += a * np.sin(np.pi * tau[m] / w)
        r = (tau >= w) & (tau < w + 0.12)
        out[r] -= 0.3 * a * np.exp(-(tau[r] - w) / 0.02) * np.sin(2 * np.pi * 25.0 * (tau[r] - w))
    return out


def simulate(
    g: GaitParams,
    n_strides: int,
    impact_g: tuple[float, float],
    mounts: tuple[Mounting, Mounting],
    sensor: SensorModel,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(time s, (n, 6) specific force m/s^2, true IC s, true TO s) of ``n_strides`` strides."""
    from scipy.signal import butter, sosfilt

    cyc = Cycle(g)
    d = cyc.duty
    t, phi = _phase(n_strides, g.stride_s, g.stride_cv, rng)
    k0 = int(np.ceil(phi[0]))
    ics = np.interp(np.arange(k0, k0 + n_strides), phi, t)
    tos = np.interp(np.arange(k0, k0 + n_strides) + d, phi, t)
    keep = t <= ics[-1] + 0.85 * g.stride_s
    t, phi = t[keep], phi[keep]
    ph = np.mod(phi, 1.0)
    ankle = np.stack([cyc("x", ph), 0.01 * np.sin(2 * np.pi * phi), cyc("z", ph)], -1)
    roll_t = g.tibia_roll_deg + 3.0 * np.sin(2 * np.pi * phi)
    roll_f = 5.0 * np.sin(2 * np.pi * ph)
    axes = {
        "foot": _axes(cyc("ankle", ph) - cyc("lean", ph), roll_f, shank=False),
        "tibia": _axes(cyc("lean", ph), roll_t, shank=True),
    }
    foot_origin = np.array([0.22, 0.0, 0.26]) * g.stance.foot_length_mm / 1000.0
    out = []
    for (name, ax), mount in zip(axes.items(), mounts, strict=True):
        rel = mount.point_m - (foot_origin if name == "foot" else 0.0)
        pos = ankle + np.einsum("nij,j->ni", ax, rel)
        acc = np.gradient(np.gradient(pos, 1 / FINE_HZ, axis=0), 1 / FINE_HZ, axis=0)
        sensor_axes = np.einsum("nij,jk->nik", ax, mount.rotation)
        f = np.einsum("nij,ni->nj", sensor_axes, acc + np.array([0.0, 0.0, G]))
        amp = impact_g[0 if name == "foot" else 1] * G
        spike = _transient(t, ics, amp * (1 + 0.08 * rng.standard_normal(len(ics))))
        direction = np.array([-0.6 if name == "foot" else -0.45, 0.05, 1.0])
        f += spike[:, None] * (mount.rotation.T @ (direction / np.linalg.norm(direction)))
        out.append(f)
    fine = np.concatenate(out, axis=1)
    sos = butter(2, sensor.bandwidth_hz, fs=FINE_HZ, output="sos")
    fine = sosfilt(sos, fine - fine[0], axis=0) + fine[0]
    step = FINE_HZ / sensor.rate_hz
    idx = np.arange(rng.uniform(0, step), len(t) - 1, step)
    i0 = np.floor(idx).astype(int)
    w = (idx - i0)[:, None]
    data = (1 - w) * fine[i0] + w * fine[i0 + 1]
    time = np.interp(idx, np.arange(len(t)), t)
    data += rng.normal(0, sensor.noise_g * G, data.shape) + rng.normal(0, 0.03 * G, 6)
    lim = sensor.range_g * G
    return time - time[0], np.clip(data, -lim, lim), ics - time[0], tos - time[0]
