"""Synthetic foot-dorsum and distal-tibia accelerometers from a sagittal shank-foot kinematic model,
stride by stride from each stride's gait state (``footdt.cohort.state``).

Per stride (phase ``phi`` in [0, 1), stance ``0 <= phi <= d``), in a frame moving with the runner
(x forward, y left, z up; m, s). Four quantities describe a stride: the ankle centre's x and z,
the shank's forward lean and the ankle's dorsiflexion (foot pitch = ankle - lean).

- **Stance** (closed form, ``footdt.cohort.stance``, from this stride's state): the foot rocks
  about its first contact point, lies flat, then rolls over the metatarsal heads while the
  ground moves backwards at the running speed; the ankle is carried by the foot; the shank leans
  forward steadily.
- **Touchdown**: the lower limb lands moving down at ``touchdown_v_m_s`` and forward over the
  ground at ``touchdown_vx_m_s``; the ground arrests each within twice ``arrest_s`` /
  ``arrest_x_s`` with a raised-cosine deceleration (peak ``touchdown_v / arrest``): the same
  impulse ``m1 x touchdown_v`` makes the impact force in ``stance.vertical_grf_bw``. So a harder
  landing gives both a higher impact peak and loading rate and a higher tibial acceleration.
- **Swing**: cubic splines through key frames, leaving this stride's TO and reaching the *next*
  stride's IC with that stance's slopes (C1: the acceleration steps where the ground force
  appears and vanishes). Key frames follow RBDS001's shank and ankle paths: the ankle keeps moving
  back after TO, rises to the kick height at 38 % of swing, the shank leans furthest at 42 %; the
  forward swing builds up its acceleration over the first 20 % of swing, holds it, and turns
  into a deceleration growing to its peak at contact over the last ``LATE_SWING_S``.
- Each sensor point's acceleration is the second derivative of its path (1 kHz); gravity's
  reaction (+9.81 m/s^2 up) is added (specific force); the result is expressed in the sensor's
  axes: its segment's axes (the tibia tilted medially by ``tibia_roll_deg`` +- 3 deg, the foot
  rolling +- 5 deg), times a small mounting rotation; the mounting point is offset too.
- **Soft tissue** (wobbling mass): the impact reaches each sensor through the tissue it sits
  on, a base-excited mass-spring-damper (natural frequency ``tissue_coupling_hz``, damping ratio
  ``tissue_damping``; ``H(s) = (2 zeta w s + w^2) / (s^2 + 2 zeta w s + w^2)``), which rings and
  delays it, scaled by the share of the limb's deceleration that reaches the sensor site
  (``impact_coupling_foot`` / ``_tibia``): all hidden per runner. The slower segment motion
  reaches the sensors as it is.
- **Sensor**: 2nd-order low-pass at ``bandwidth_hz``, sampled at ``rate_hz`` from a random
  sub-sample phase, white noise, a constant bias per axis, clipping at the range.

Output: specific force in m/s^2, channel order of ``footdt.cohort.manifest.WINDOW_CHANNELS``.
"""

from __future__ import annotations

import itertools
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
from footdt.domain import FOOT_SENSOR, TIBIA_SENSOR
from footdt.gait.recording import G

FINE_HZ = 1000.0
#: The swing leg accelerates forward uniformly, then decelerates, harder and harder, over the
#: last LATE_SWING_S before contact (s; RBDS001 foot: -4 to -6 g over the last ~0.1 s).
LATE_SWING_S = 0.16
#: With the held landing (``Landing.forward_arrest == "held"``) the late-swing deceleration
#: grows as ``1 - (1 - r)^LATE_SWING_EASE`` over the span (r from 0 to 1): fast at first, level
#: at contact, so its largest value is the one at contact (``_swing_shape``), where the ground's
#: held arrest takes over (a step to its level at IC). RBDS001's foot: -4 to -6 g over the last
#: ~0.1 s of swing, -5 to -7.4 g 10 ms after contact; the linear growth (exponent 1) ends at
#: -6.5 to -10.6 g on the development strikers (seeds 7, 21, 3), this one at -5.0 to -8.2 g.
LATE_SWING_EASE = 2.0
#: Share of the lower limb's effective touchdown velocity that the ankle path itself carries
#: into contact (0.3 x ~2.2 m/s ~ 0.7 m/s down, as RBDS001's ankle), stopped by the heel pad in
#: ``HEEL_PAD`` x the arrest time; the whole limb's impact deceleration reaches the sensors
#: through their soft tissue (``simulate``).
ANKLE_TOUCHDOWN_SHARE = 0.3
HEEL_PAD = 0.5


@dataclass(frozen=True)
class Landing:
    """How the synthetic limb lands (issue 14). The default, ``("held", "relative")``, lands like
    RBDS001 (the event detector's IC within 10 ms on every strike type, docs/gait.md);
    ``LEGACY_LANDING`` (``("raised_cosine", "net")``) is the generator's landing before it.

    - ``forward_arrest``: ``"raised_cosine"``: the swing's deceleration grows to its peak at
      contact and the ground then arrests ``touchdown_vx_m_s`` with a raised cosine peaking at
      ``arrest_x_s`` (a step in the deceleration at IC; it ends 6-8 ms after IC).
      ``"held"``: the swing's deceleration grows into contact over ``LATE_SWING_S`` as
      ``1 - (1 - r)^LATE_SWING_EASE`` (largest at contact); at IC the ground's arrest takes over
      at the level ``touchdown_vx / t_mid`` (a step), holds it and fades it out (``_arrest_x``,
      centred at ``t_mid = ARREST_X_MID x arrest_x_s``, 26 ms at the cohort's mean), as on
      RBDS001: foot x still -5 to -7.5 g 10 ms after force-plate contact, rising steepest
      23-29 ms after it.
    - ``felt_impact``: ``"net"``: the lower limb's impact deceleration (``touchdown_v_m_s``
      arrested over twice ``arrest_s``) reaches each sensor through its soft tissue, scaled by
      the coupling: the sensor's signal carries a velocity change ``coupling x touchdown_v``
      (1.0-1.8 m/s) on top of its segment's own (the ankle's ~0.7 m/s, ``HEEL_PAD``).
      ``"relative"``: only the soft tissue's motion relative to the limb (``H(s) - 1`` of the
      limb's deceleration, scaled by the coupling): no net velocity change beyond the segment's.
    """

    forward_arrest: str = "held"
    felt_impact: str = "relative"

    def __post_init__(self) -> None:
        if self.forward_arrest not in ("raised_cosine", "held"):
            raise ValueError(f"forward_arrest must be 'raised_cosine' or 'held', got {self.forward_arrest!r}")  # fmt: skip
        if self.felt_impact not in ("net", "relative"):
            raise ValueError(f"felt_impact must be 'net' or 'relative', got {self.felt_impact!r}")  # fmt: skip


DEFAULT_LANDING = Landing()
#: The generator's landing before issue 14 (IC 13-24 ms off with the shipped detector).
LEGACY_LANDING = Landing("raised_cosine", "net")
#: The reference tibial accelerometer PTA is measured with (``Recording.pta_ref_g``): sampled at
#: ``FINE_HZ`` (1 kHz) with a 2nd-order low-pass at this bandwidth (Hz), as the published PTA
#: studies record it (docs/cohort.md); the cohort's own sensor stays ``SensorModel``.
REFERENCE_BANDWIDTH_HZ = 400.0
#: The window of a stride's peak acceleration around its true IC (s): [IC - 20 ms, IC + 150 ms].
PEAK_WINDOW_S = (0.02, 0.15)


@dataclass(frozen=True)
class Mounting:
    """Where a sensor sits: point (m; foot: foot frame, heel at 0; tibia: shank frame from the
    ankle centre) and mounting rotation (3x3, segment axes -> sensor axes)."""

    point_m: np.ndarray
    rotation: np.ndarray


@dataclass(frozen=True)
class SensorModel:
    rate_hz: float = 100.0
    bandwidth_hz: float = 40.0
    noise_g: float = 0.03
    range_g: float = 16.0


def _ends(f: Callable[[np.ndarray], np.ndarray], contact_s: float) -> tuple[tuple[float, float], tuple[float, float]]:  # fmt: skip
    """(value, d/dt) of a stance function of s at TO and at IC (t in s)."""
    h = 1e-4
    a = f(np.array([1.0 - 2 * h, 1.0 - h, 1.0]))
    b = f(np.array([0.0, h, 2 * h]))
    return ((a[2], (3 * a[2] - 4 * a[1] + a[0]) / (2 * h) / contact_s),
            (b[0], (-3 * b[0] + 4 * b[1] - b[2]) / (2 * h) / contact_s))  # fmt: skip


def _swing_shape(v0: float, x0: float, v1: float, x1: float, tb: float, tr: float, ease: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(u, position, acceleration) on a fine grid of the forward swing shape (per unit u):
    acceleration ``a1`` built up over ``tr``, held until ``1 - tb``, then a deceleration growing
    to ``a2`` at contact, linearly (``ease`` 1) or as ``1 - (1 - r)^ease`` (r = 0..1 over
    ``tb``: faster at first, level at contact); ``a1``, ``a2`` from the end conditions."""
    t1 = 1.0 - tb
    u = np.linspace(0.0, 1.0, 2001)
    ramp_up = np.clip(u / tr, 0.0, 1.0) * (u <= t1)
    ramp_dn = np.clip((u - t1) / tb, 0.0, 1.0)
    if ease != 1.0:
        ramp_dn = 1.0 - (1.0 - ramp_dn) ** ease

    def integrate(acc: np.ndarray, v_start: float, x_start: float) -> tuple[np.ndarray, np.ndarray]:
        vel = v_start + np.concatenate([[0.0], np.cumsum(0.5 * (acc[1:] + acc[:-1]) * np.diff(u))])
        pos = x_start + np.concatenate([[0.0], np.cumsum(0.5 * (vel[1:] + vel[:-1]) * np.diff(u))])
        return vel, pos

    # x(1) and x'(1) are linear in (a1, a2): integrate each shape twice
    (va, xa), (vb, xb) = ((v[-1], x[-1]) for v, x in (integrate(ramp_up, 0.0, 0.0), integrate(ramp_dn, 0.0, 0.0)))  # fmt: skip
    a1, a2 = np.linalg.solve([[va, -vb], [xa, -xb]], [v1 - v0, x1 - x0 - v0])
    acc = a1 * ramp_up - a2 * ramp_dn
    return u, integrate(acc, v0, x0)[1], acc


def _forward_swing(x0: float, v0: float, x1: float, v1: float, tb: float, tr: float = 0.2) -> list[tuple[float, float]]:  # fmt: skip
    """Key frames (u, x) of a swing from (x0, v0) to (x1, v1) (per unit u): the forward
    acceleration builds up over ``tr`` after TO (the leg is nearly ballistic as it leaves the
    ground), holds until ``1 - tb``, then turns into a deceleration that grows linearly to its
    peak at contact (where the ground's arrest takes over)."""
    u, pos, _ = _swing_shape(v0, x0, v1, x1, tb, tr)
    return [(k, float(np.interp(k, u, pos))) for k in np.linspace(0.08, 0.96, 12)]


def _stance_paths(p: StanceParams, landing_m: float) -> dict[str, Callable[[np.ndarray], np.ndarray]]:  # fmt: skip
    """Stance functions of s: ankle x (m, runner frame), z (m), shank lean, ankle angle (deg)."""
    st = p.state
    ankle_local = np.array([0.22, 0.26]) * p.foot_length_mm  # as achilles.FootShankGeometry
    x0 = rotate(ankle_local[None], foot_pitch_deg(np.zeros(1), p), pivot_mm(np.zeros(1), p))[0]

    def ankle_xz(s: np.ndarray) -> np.ndarray:
        pitch, piv = foot_pitch_deg(s, p), pivot_mm(s, p)
        pos = rotate(np.broadcast_to(ankle_local, (len(s), 2)), pitch, piv)
        return (pos - x0 * [1.0, 0.0]) / 1000.0 + [landing_m, 0.0]

    return {
        "x": lambda s: ankle_xz(s)[:, 0] - st.speed_m_s * s * st.contact_s,
        "z": lambda s: ankle_xz(s)[:, 1],
        "lean": lambda s: lean_deg(s, p),
        "ankle": lambda s: ankle_deg(s, p),
    }


def _arrest(t: np.ndarray, dv: float, t_peak: float) -> np.ndarray:
    """Position excess (m) at time ``t`` after IC of a velocity excess ``dv`` (m/s) that the
    ground removes with a raised-cosine deceleration peaking at ``t_peak`` (s)."""
    u = np.clip(t / (2.0 * t_peak), 0.0, 1.0)
    # excess velocity dv (1 - R(u)), R(u) = u - sin(2 pi u) / (2 pi); its integral
    integral = 2.0 * t_peak * dv * (u - u**2 / 2.0 + (1.0 - np.cos(2.0 * np.pi * u)) / (4.0 * np.pi**2))  # fmt: skip
    return integral - dv * t_peak


#: The foot's forward arrest (``_arrest_x``): the swing's deceleration at contact is held, then
#: fades (half cosine over ``ARREST_X_FADE``, in units of the centre time) so that the ground
#: has removed ``touchdown_vx_m_s``; the fade is centred at ``ARREST_X_MID`` x ``arrest_x_s``
#: (26 ms at the cohort's mean 60 ms: RBDS001's foot x rises steepest 23-29 ms after
#: force-plate contact, still -5 to -7.5 g 10 ms after it).
ARREST_X_MID = 0.026 / 0.06
ARREST_X_FADE = 1.2


def _arrest_x(t: np.ndarray, dv: float, t_mid: float) -> np.ndarray:
    """Position excess (m) at time ``t`` after IC of a forward velocity excess ``dv`` (m/s)
    that the ground removes with a deceleration ``dv / t_mid`` held from IC and fading as a half
    cosine over ``ARREST_X_FADE x t_mid`` centred at ``t_mid`` (s): the impulse is ``dv``."""
    w = ARREST_X_FADE * t_mid
    t1, t2 = t_mid - 0.5 * w, t_mid + 0.5 * w
    level = dv / t_mid
    tt = np.clip(np.asarray(t, float), 0.0, t2)
    # deceleration g(t) = level on [0, t1], level (1 + cos(pi (t - t1) / w)) / 2 on [t1, t2]
    k = np.pi / w

    # excess velocity e(t) = dv - int_0^t g; position excess = -int_t^t2 e
    def vel_int(x: np.ndarray) -> np.ndarray:  # int_0^x of the integral of g, for x in [0, t2]
        a = np.minimum(x, t1)
        qq = np.clip(x - t1, 0.0, w)
        first = 0.5 * level * a**2
        # for x > t1: G(x) = level t1 + level/2 (q + sin(k q) / k); its integral from t1 to x
        second = level * t1 * qq + 0.5 * level * (qq**2 / 2.0 + (1.0 - np.cos(k * qq)) / k**2)
        return first + second

    # int_t^t2 e = dv (t2 - t) - (V(t2) - V(t)), V = vel_int
    return -(dv * (t2 - tt) - (vel_int(np.array(t2)) - vel_int(tt)))


class Cycle:
    """One stride from IC to the next IC (phi in [0, 1)): this stride's closed-form stance
    (``footdt.cohort.stance``) with the touchdown arrest, then a cubic spline through swing key
    frames from this stance's TO to the *next* stride's IC (its stance's slopes, its touchdown
    velocity). Quantities: ankle ``x``, ``z`` (m, runner frame, z above ground), shank ``lean``
    and ankle dorsiflexion ``ankle`` (deg); foot pitch = ankle - lean."""

    def __init__(self, p: StanceParams, nxt: StanceParams, landing: Landing = DEFAULT_LANDING) -> None:  # fmt: skip
        st, sn = p.state, nxt.state
        held = landing.forward_arrest == "held"
        self._arrest_fn = {"x": _arrest_x if held else _arrest, "z": _arrest}
        self._x_end = 1.0 + 0.5 * ARREST_X_FADE if held else 2.0
        self.stride_s = st.stride_s
        self.duty = st.contact_s / st.stride_s
        self._p = p
        self._stance = _stance_paths(p, st.landing_m)
        nxt_paths = _stance_paths(nxt, sn.landing_m)
        # touchdown: velocity excess over the stance path (m/s) and its arrest's time scale (s)
        kz = ANKLE_TOUCHDOWN_SHARE
        kx = ARREST_X_MID if held else 1.0
        mid, mid_next = kx * st.arrest_x_s, kx * sn.arrest_x_s
        self._touch = {"x": (st.touchdown_vx_m_s, mid), "z": (-kz * st.touchdown_v_m_s, HEEL_PAD * st.arrest_s)}  # fmt: skip
        touch_next = {"x": (sn.touchdown_vx_m_s, mid_next), "z": (-kz * sn.touchdown_v_m_s, HEEL_PAD * sn.arrest_s)}  # fmt: skip
        t_sw = st.stride_s - st.contact_s  # swing (s); d/du = t_sw d/dt
        ends = {}
        for k in self._stance:
            (y0, dy0), _ = _ends(self._stance[k], st.contact_s)
            _, (y1, dy1) = _ends(nxt_paths[k], sn.contact_s)
            if k in touch_next:
                dv, tp = touch_next[k]
                y1, dy1 = y1 + float(self._arrest_fn[k](np.zeros(1), dv, tp)[0]), dy1 + dv
            ends[k] = ((y0, dy0 * t_sw), (y1, dy1 * t_sw))
        (x_to, vx_to), (x_ic, vx_ic) = ends["x"]
        _, (z_ic, _) = ends["z"]
        (lean_to, _), (lean_ic, _) = ends["lean"]
        (ank_to, _), _ = ends["ankle"]
        kick = st.kick_m
        keys = {
            "x": [] if held else _forward_swing(x_to, vx_to, x_ic, vx_ic, LATE_SWING_S / t_sw),
            "z": [(0.38, kick), (0.65, z_ic + 0.55 * (kick - z_ic)), (0.85, z_ic + 0.15 * (kick - z_ic))],
            "lean": [(0.42, lean_to + 35.0), (0.75, 12.0), (0.9, lean_ic - 3.0)],
            "ankle": [(0.15, ank_to - 8.0), (0.4, -6.0), (0.65, 3.0), (0.85, 4.0)],
        }  # fmt: skip
        self._swing = {}
        for k, ((y0, dy0), (y1, dy1)) in ends.items():
            if k == "x" and held:
                # the late swing's deceleration grows into contact (``LATE_SWING_EASE``), where
                # the ground's held arrest takes over
                uf, xf, _ = _swing_shape(vx_to, x_to, vx_ic, x_ic, LATE_SWING_S / t_sw, 0.2, LATE_SWING_EASE)  # fmt: skip
                self._swing[k] = CubicSpline(uf, xf, bc_type=((1, dy0), (1, dy1)))
                continue
            u, y = zip(*[(0.0, y0), *keys[k], (1.0, y1)], strict=True)
            self._swing[k] = CubicSpline(u, y, bc_type=((1, dy0), (1, dy1)))

    def __call__(self, name: str, phi: np.ndarray) -> np.ndarray:
        """Quantity ``name`` at phases ``phi`` in [0, 1) of this stride."""
        d = self.duty
        st = phi <= d
        out = np.empty_like(phi)
        out[st] = self._stance[name](phi[st] / d)
        out[~st] = self._swing[name]((phi[~st] - d) / (1.0 - d))
        if name in self._touch:
            dv, tp = self._touch[name]
            t = phi * self.stride_s
            m = t < (self._x_end if name == "x" else 2.0) * tp
            out[m] += self._arrest_fn[name](t[m], dv, tp)
        return out


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


def soft_tissue(acc: np.ndarray, natural_hz: float, damping: float, rate_hz: float = FINE_HZ) -> np.ndarray:  # fmt: skip
    """The acceleration of a sensor on soft tissue that follows the bone's ``acc`` (n, 3) as a
    base-excited mass-spring-damper (``H(s) = (2 zeta w s + w^2) / (s^2 + 2 zeta w s + w^2)``,
    bilinear transform); starts at rest on the first sample."""
    from scipy.signal import bilinear, lfilter, lfilter_zi

    w = 2.0 * np.pi * natural_hz
    b, a = bilinear([2.0 * damping * w, w * w], [1.0, 2.0 * damping * w, w * w], fs=rate_hz)
    zi = lfilter_zi(b, a)
    return np.stack([lfilter(b, a, acc[:, i], zi=zi * acc[0, i])[0] for i in range(acc.shape[1])], axis=1)  # fmt: skip


@dataclass(frozen=True)
class Recording:
    """A synthetic recording: time (s), (n, 6) specific force (m/s^2), true IC and TO (s), and
    per true IC the peak tibial acceleration (g, resultant) of a reference accelerometer at the
    tibia sensor's place (1 kHz, ``REFERENCE_BANDWIDTH_HZ``, no noise or clipping; PTA as the
    published studies measure it) within ``PEAK_WINDOW_S`` of the IC."""

    time: np.ndarray
    data: np.ndarray
    ic_s: np.ndarray
    to_s: np.ndarray
    pta_ref_g: np.ndarray


def impact_acceleration(t: np.ndarray, stances: list[StanceParams], ics: np.ndarray) -> np.ndarray:
    """(n, 3) the lower limb's vertical impact deceleration (m/s^2, runner frame) at times
    ``t``: the arrest of each stride's touchdown velocity (raised cosine, peak ``v / arrest``),
    the deceleration that makes the impact force ``m1 x v / arrest`` (``stance.impact_grf_bw``)."""
    from footdt.cohort.stance import raised_cosine

    out = np.zeros((len(t), 3))
    for ic, p in zip(ics, stances, strict=True):
        st = p.state
        m = (t >= ic) & (t <= ic + 2.0 * st.arrest_s)
        out[m, 2] += st.touchdown_v_m_s * raised_cosine(t[m] - ic, st.arrest_s)
    return out


def simulate(
    stances: list[StanceParams],
    mounts: tuple[Mounting, Mounting],
    sensor: SensorModel,
    rng: np.random.Generator,
    *,
    tibia_roll_deg: float = 12.0,
    tissue: tuple[float, float] = (18.0, 0.4),
    coupling: tuple[float, float] = (0.8, 0.6),
    landing: Landing = DEFAULT_LANDING,
) -> Recording:
    """A recording of ``len(stances) - 2`` strides: ``stances[0]`` only supplies the swing
    before the first recorded IC (the recording starts 55-75 % into it), the last one the next
    IC after the last recorded stride (the recording ends 85 % into the last recorded stride).
    ``tissue``: (natural frequency Hz, damping ratio) of the soft tissue; ``coupling``: share of
    the impact deceleration (foot, tibia) that reaches the sensor through it."""
    from scipy.signal import butter, sosfilt

    cycles = [Cycle(a, b, landing) for a, b in itertools.pairwise(stances)]
    strides = np.array([c.stride_s for c in cycles])
    ic_all = np.concatenate([[0.0], np.cumsum(strides)])  # IC of every cycle (s)
    start = ic_all[0] + rng.uniform(0.55, 0.75) * strides[0]
    stop = ic_all[-2] + 0.85 * strides[-1]
    t = np.arange(start, stop, 1.0 / FINE_HZ)
    k = np.clip(np.searchsorted(ic_all, t, side="right") - 1, 0, len(cycles) - 1)
    phi = (t - ic_all[k]) / strides[k]
    names = ("x", "z", "lean", "ankle")
    q = {n: np.empty_like(t) for n in names}
    for i, cyc in enumerate(cycles):
        m = k == i
        if m.any():
            for n in names:
                q[n][m] = cyc(n, phi[m])
    turns = k + phi  # stride count: lateral sway and tibia roll run over the stride
    ankle = np.stack([q["x"], 0.01 * np.sin(2 * np.pi * turns), q["z"]], -1)
    roll_t = tibia_roll_deg + 3.0 * np.sin(2 * np.pi * turns)
    roll_f = 5.0 * np.sin(2 * np.pi * turns)
    axes = {
        FOOT_SENSOR: _axes(q["ankle"] - q["lean"], roll_f, shank=False),
        TIBIA_SENSOR: _axes(q["lean"], roll_t, shank=True),
    }
    impact = impact_acceleration(t, stances[1:-1], ic_all[1:-1])
    felt = soft_tissue(impact, *tissue)
    foot_origin = np.array([0.22, 0.0, 0.26]) * stances[1].foot_length_mm / 1000.0
    out = []
    for (name, ax), mount, c in zip(axes.items(), mounts, coupling, strict=True):
        rel = mount.point_m - (foot_origin if name == FOOT_SENSOR else 0.0)
        pos = ankle + np.einsum("nij,j->ni", ax, rel)
        acc = np.gradient(np.gradient(pos, 1 / FINE_HZ, axis=0), 1 / FINE_HZ, axis=0)
        # the bone's path (with the heel pad's quick arrest of the ankle) plus the limb's impact
        # deceleration as the sensor's soft tissue passes it, by its coupling
        extra = felt - impact if landing.felt_impact == "relative" else felt
        acc = acc + c * extra + np.array([0.0, 0.0, G])
        sensor_axes = np.einsum("nij,jk->nik", ax, mount.rotation)
        out.append(np.einsum("nij,ni->nj", sensor_axes, acc))
    fine = np.concatenate(out, axis=1)
    ics = ic_all[1:-1]
    ref_sos = butter(2, REFERENCE_BANDWIDTH_HZ, fs=FINE_HZ, output="sos")
    ref = np.linalg.norm(sosfilt(ref_sos, fine[:, 3:] - fine[0, 3:], axis=0) + fine[0, 3:], axis=1) / G  # fmt: skip
    lo, hi = PEAK_WINDOW_S
    pta_ref = np.array([np.max(ref[(t >= c - lo) & (t <= c + hi)], initial=0.0) for c in ics])
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
    tos = ics + np.array([s.state.contact_s for s in stances[1:-1]])
    return Recording(
        time - time[0], np.clip(data, -lim, lim), ics - time[0], tos - time[0], pta_ref
    )
