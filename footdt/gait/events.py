"""Initial contact (IC) and toe-off (TO) from foot and tibia acceleration alone.

The rule (feature-based, in the style of Aubol & Milner 2020, J Biomech 105:109768, who identify
foot contact from features of a single triaxial accelerometer's signal; the features below are
footdt's own and are checked leave-one-recording-out against force-plate contacts and on
synthetic rearfoot, midfoot and forefoot strikers, see docs/gait.md):

1. ``s(t)`` = mean over the available sensors (foot, tibia) of the resultant specific force
   ``|f|`` in g. It is orientation-free, so sensor alignment does not matter for detection.
2. Stride period ``T`` = the lag of the autocorrelation maximum of ``s`` (80 ms moving mean)
   within ``[min_stride_s, max_stride_s]``: the first local maximum within 80 % of the highest,
   so neither a contralateral-step echo at ``T/2`` nor a multiple ``2T`` is taken. A weak
   maximum (< 0.2) means no strides.
3. One landing per stride: peaks of ``s`` at least ``0.6 T`` apart and above ``min_impact_g``
   (and above half the median peak, which drops non-stride bumps). The peak is either the impact
   or the late-swing deceleration, which can be as high and comes up to ~70 ms earlier (RBDS001
   at 3.5 m/s, left foot), so it only locates the landing. A peak less than ``LEAD_IN_S``
   (0.1 s) after the recording's start is not a landing the recording holds.
4. **IC** = the fall of ``s`` into foot-flat, minus ``ic_offset_s``: within ``fall_window_s``
   of that peak, the first local maximum of the fall rate ``-ds/dt`` that reaches 80 % of the
   window's largest (a soft-tissue or shank rebound can fall as fast a few tens of ms later). When the foot lands, the ground arrests it: the late-swing deceleration and
   the impact end and ``|f|`` drops to the ~1-2 g of a foot at rest on the belt. That drop is
   the sharpest feature of the stride whether the peak before it is the impact, the swing
   deceleration or a plateau of both, and whatever the strike pattern; it comes a nearly
   constant time after contact (RBDS001 at 2.5 and 3.5 m/s, both legs, markers low-passed at
   15-20 Hz: 23-27 ms; the cohort generator before its issue-12 rework: 24-25 ms for rearfoot,
   midfoot and forefoot strikers; the reworked one ends the foot's deceleration 6-8 ms after
   contact and is not matched, see docs/gait.md). The
   offset is learned from force-plate contacts (``fit_offsets``; the default comes from every
   RBDS001 recording), per sensor set (``IC_OFFSETS_S``). The time is refined by a parabola
   through the steepest-fall sample and its neighbours.
5. **TO**: the dip of ``s`` first: the minimum of ``s`` (3-sample centred mean at 100 Hz)
   within ``[IC + 0.20 T, IC + 0.55 T]`` (and before the next IC): as the ground force vanishes
   the leg briefly approaches free fall, so ``|f|`` dips between the push-off and early-swing
   peaks. The dip itself lags the force-plate toe-off by a speed-dependent time (RBDS001: 23 ms
   at 2.5 m/s, 35 ms at 3.5 m/s), so with the foot sensor TO is the **fall into the dip**:
   within ``to_fall_window_s`` (40 ms) before the dip, the last local maximum of the fall rate
   ``-ds/dt`` that reaches 80 % of the window's largest, refined by a parabola, minus
   ``to_offset_s``. When the foot leaves the belt the ground's push on it ends and ``|f|``
   drops; that drop comes at the force-plate toe-off at both speeds (RBDS001, foot+tibia: -3
   to +4 ms; foot: 0 to +10 ms). The tibia alone has no such drop (its
   ``|f|`` falls gradually through push-off, steepest 6-33 ms before TO), so tibia-only TO stays
   the dip (``to_rule``). The offset is learned from force-plate contacts like the IC offset,
   per sensor set (``TO_OFFSETS_S``). A dip on the edge of its window is flagged
   ``to_uncertain``; a stride more than 20 % off ``T`` ``irregular_stride``.

Times are in s; peaks in g. A landing needs its late swing and fall window inside the
recording. Where the TO window runs past the end of the recording it is cut there, and a dip at
the cut is flagged ``to_uncertain`` (it may lie beyond); the last stride has no ``next_ic_s``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from footdt.domain import FOOT_SENSOR, TIBIA_SENSOR
from footdt.gait.recording import G, NoStridesError, Recording


@dataclass(frozen=True)
class DetectorSettings:
    """Tunable limits of the detector (s, g, and fractions of the stride period)."""

    min_stride_s: float = 0.3
    max_stride_s: float = 2.0
    min_impact_g: float = 1.5
    relative_height: float = 0.5
    to_window: tuple[float, float] = (0.20, 0.55)
    irregular: float = 0.2
    fall_window_s: tuple[float, float] = (-0.06, 0.15)
    #: IC = steepest fall - this (s); None: ``IC_OFFSETS_S`` for the sensor set used.
    ic_offset_s: float | None = None
    #: TO = the TO feature - this (s); None: ``TO_OFFSETS_S`` for the sensor set used.
    to_offset_s: float | None = None
    #: TO feature: "fall" (steepest fall of s into the dip) or "dip" (the dip of s itself);
    #: None: "fall" when the foot sensor is used, else "dip".
    to_rule: str | None = None
    #: How far before the dip the fall into it is looked for (s).
    to_fall_window_s: float = 0.04

    def ic_offset_for(self, sensors: tuple[str, ...]) -> float:
        if self.ic_offset_s is not None:
            return self.ic_offset_s
        return IC_OFFSETS_S.get(sensor_set_name(sensors), IC_OFFSETS_S["foot+tibia"])

    def to_offset_for(self, sensors: tuple[str, ...]) -> float:
        if self.to_offset_s is not None:
            return self.to_offset_s
        return TO_OFFSETS_S.get(sensor_set_name(sensors), TO_OFFSETS_S["foot+tibia"])

    def to_rule_for(self, sensors: tuple[str, ...]) -> str:
        if self.to_rule is not None:
            if self.to_rule not in ("fall", "dip"):
                raise ValueError(f"to_rule must be 'fall' or 'dip', got {self.to_rule!r}")
            return self.to_rule
        return "fall" if FOOT_SENSOR in sensors else "dip"


#: Steepest fall of s after force-plate IC (s), per sensor set: the median of the per-recording
#: medians over RBDS001 at 2.5 and 3.5 m/s, both legs, virtual sensors at 100 Hz
#: (benchmarks/bench_gait_loro.py, ``fit_offsets``).
IC_OFFSETS_S: dict[str, float] = {"foot+tibia": 0.0246, FOOT_SENSOR: 0.0234, TIBIA_SENSOR: 0.0264}

#: TO feature (``to_rule_for``) after force-plate TO (s), per sensor set, learned the same way.
TO_OFFSETS_S: dict[str, float] = {"foot+tibia": -0.0024, FOOT_SENSOR: 0.0004, TIBIA_SENSOR: 0.0234}


def sensor_set_name(sensors: tuple[str, ...]) -> str:
    """``foot+tibia``, ``foot``, ``tibia`` (or the names joined by ``+``)."""
    return "+".join(sensors)


DEFAULT_SETTINGS = DetectorSettings()
#: A landing counts only when the recording holds its late swing: at least this long (s) before
#: its |a| peak (RBDS001's foot decelerates over the last ~0.1 s of swing). It was a quarter of
#: the stride period (~0.18 s), which skipped synthetic recordings' first landings 0.24-0.29
#: stride after their start (docs/gait.md).
LEAD_IN_S = 0.1


@dataclass(frozen=True)
class Stride:
    """One stance and the stride it starts: IC and TO times (s), flags, impact peak (g)."""

    index: int
    ic_s: float
    to_s: float
    next_ic_s: float | None
    ic_peak_g: float
    flags: tuple[str, ...] = ()

    @property
    def stance_s(self) -> float:
        return self.to_s - self.ic_s

    @property
    def stride_s(self) -> float | None:
        return None if self.next_ic_s is None else self.next_ic_s - self.ic_s

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["flags"] = list(self.flags)
        d["stance_s"] = self.stance_s
        d["stride_s"] = self.stride_s
        return d


@dataclass(frozen=True)
class GaitEvents:
    """The strides of one recording, the stride period (s) and which sensors were used."""

    strides: tuple[Stride, ...]
    stride_period_s: float
    rate_hz: float
    sensors: tuple[str, ...]
    source: str = "<memory>"

    @property
    def cadence_spm(self) -> float:
        """Steps per minute (two steps per stride)."""
        return 120.0 / self.stride_period_s

    def flag(self, index: int, *flags: str) -> GaitEvents:
        """A copy with ``flags`` added to stride ``index`` (no duplicates)."""
        out = []
        for s in self.strides:
            if s.index == index:
                s = replace(s, flags=tuple(dict.fromkeys((*s.flags, *flags))))
            out.append(s)
        return replace(self, strides=tuple(out))


def stride_signal(rec: Recording, sensors: tuple[str, ...] | None = None) -> np.ndarray:
    """Mean resultant specific force (g) of the given sensors (default: all of them)."""
    use = sensors or rec.sensors
    return np.mean([rec.resultant(s) for s in use], axis=0) / G


def stride_period(s: np.ndarray, rate_hz: float, settings: DetectorSettings) -> tuple[float, float]:
    """(period in s, normalised autocorrelation there) of a stride-periodic signal."""
    w = max(1, round(0.08 * rate_hz))  # 80 ms mean: stride shape, not impact jitter
    x = np.convolve(s - s.mean(), np.ones(w) / w, mode="same")
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    if ac[0] <= 0:
        return float("nan"), 0.0
    ac = ac / ac[0]
    lo = max(1, int(settings.min_stride_s * rate_hz))
    hi = min(n - 2, int(settings.max_stride_s * rate_hz))
    if hi <= lo + 2:
        return float("nan"), 0.0
    seg = ac[lo : hi + 1]
    peaks = [i for i in range(1, len(seg) - 1) if seg[i - 1] < seg[i] >= seg[i + 1]]
    if not peaks:
        return float("nan"), 0.0
    best = max(seg[i] for i in peaks)
    k = next(i for i in peaks if seg[i] >= 0.8 * best)
    return (lo + k) / rate_hz, float(seg[k])


def _parabolic(y: np.ndarray, i: int) -> float:
    """Sub-sample offset (-0.5..0.5) of the extremum of a parabola through y[i-1..i+1]."""
    if i <= 0 or i >= len(y) - 1:
        return 0.0
    den = y[i - 1] - 2.0 * y[i] + y[i + 1]
    return 0.0 if den == 0 else float(np.clip(0.5 * (y[i - 1] - y[i + 1]) / den, -0.5, 0.5))


def _landing_fall(fall: np.ndarray, i0: int, i1: int, share: float = 0.8) -> int:
    """The sample of the landing's fall within ``[i0, i1]``: the first local maximum of the
    fall rate that reaches ``share`` of the window's largest. The drop into foot-flat is the
    first steep fall after the landing peak; a rebound of the soft tissue or the shank can fall
    as fast a few tens of ms later (RBDS001 tibia at 3.5 m/s)."""
    seg = fall[i0 : i1 + 1]
    top = float(seg.max())
    for k in range(len(seg)):
        left = k == 0 or seg[k] >= seg[k - 1]
        right = k == len(seg) - 1 or seg[k] > seg[k + 1]
        if left and right and seg[k] >= share * top:
            return i0 + k
    return i0 + int(np.argmax(seg))


def _fall_into(fall: np.ndarray, i0: int, i1: int, share: float = 0.8) -> int:
    """The sample of the fall into a dip at ``i1``: the last local maximum of the fall rate
    within ``[i0, i1]`` that reaches ``share`` of the window's largest. On RBDS001 it is the
    steepest one; where the push-off's own fall comes earlier in the window and is as steep
    (the synthetic cohort, seed 21), the last one is the drop into the dip."""
    seg = fall[i0 : i1 + 1]
    top = float(seg.max())
    for k in range(len(seg) - 1, -1, -1):
        left = k == 0 or seg[k] >= seg[k - 1]
        right = k == len(seg) - 1 or seg[k] > seg[k + 1]
        if left and right and seg[k] >= share * top:
            return i0 + k
    return i0 + int(np.argmax(seg))


def detect_events(
    rec: Recording,
    sensors: tuple[str, ...] | None = None,
    settings: DetectorSettings = DEFAULT_SETTINGS,
) -> GaitEvents:
    """Detect IC and TO of every complete stance in ``rec`` (see the module docstring)."""
    from scipy.signal import find_peaks

    use = tuple(sensors or rec.sensors)
    s = stride_signal(rec, use)
    rate = rec.rate_hz
    where = f"{rec.source} ({', '.join(use)})"
    period, strength = stride_period(s, rate, settings)
    if not np.isfinite(period) or strength < 0.2:
        raise NoStridesError(
            f"{where}: no strides found: no repeating stride pattern between "
            f"{settings.min_stride_s:g} and {settings.max_stride_s:g} s "
            f"(autocorrelation {strength:.2f} < 0.2; |a| ranges {s.min():.2f}-{s.max():.2f} g)"
        )
    peaks, props = find_peaks(
        s, distance=max(1, int(0.6 * period * rate)), height=settings.min_impact_g
    )
    if len(peaks):
        keep = props["peak_heights"] >= settings.relative_height * np.median(props["peak_heights"])
        peaks = peaks[keep]
    if len(peaks) < 2:
        raise NoStridesError(
            f"{where}: no strides found: fewer than 2 impact peaks above "
            f"{settings.min_impact_g:g} g (max |a| {s.max():.2f} g at t={rec.time[int(np.argmax(s))]:.2f} s)"
        )
    k = max(1, round(0.01 * rate))
    smooth = np.convolve(s, np.ones(2 * k + 1) / (2 * k + 1), mode="same")
    fall = -np.gradient(s) * rate  # g/s, > 0 where s falls
    lo_w, hi_w = settings.fall_window_s
    ic_off = settings.ic_offset_for(use)
    landings: list[int] = []
    ics: list[float] = []
    peak_g: list[float] = []
    w100 = max(2, round(0.1 * rate))
    for p in peaks:
        i0 = int(p + np.floor(lo_w * rate))
        i1 = int(p + np.ceil(hi_w * rate))
        if i0 < 1 or i1 > len(s) - 2 or p < LEAD_IN_S * rate:
            continue  # the landing (and the late swing before it) is not inside the recording
        j = _landing_fall(fall, i0, i1)
        if landings and j - landings[-1] < 0.6 * period * rate:
            continue  # two peaks of one landing (never two landings this close)
        landings.append(j)
        ics.append(rec.time[j] + _parabolic(-fall, j) / rate - ic_off)
        peak_g.append(float(np.max(s[max(0, j - w100) : j + 1])))  # the landing's peak
    strides: list[Stride] = []
    a, b = settings.to_window
    to_off = settings.to_offset_for(use)
    to_fall = settings.to_rule_for(use) == "fall"
    w_fall = max(1, round(settings.to_fall_window_s * rate))
    for j in range(len(ics)):
        has_next = j + 1 < len(ics)
        p_ic = int(np.clip(np.rint((ics[j] - rec.time[0]) * rate), 0, len(s) - 1))
        i0 = p_ic + int(np.ceil(a * period * rate))
        i1 = p_ic + int(np.floor(b * period * rate))
        if has_next:
            nxt_ic = int(np.rint((ics[j + 1] - rec.time[0]) * rate))
            i1 = min(i1, nxt_ic - int(0.1 * period * rate))
        end = len(s) - 1 - k  # the last sample whose centred mean is complete
        cut = i1 > end
        i1 = min(i1, end)
        if i1 <= i0 + 1:
            continue
        i = i0 + int(np.argmin(smooth[i0 : i1 + 1]))
        flags = ["to_uncertain"] if i in (i0, i1) or (cut and i >= i1 - 1) else []
        if to_fall:  # the fall into the dip
            i_to = _fall_into(fall, max(p_ic + 1, i - w_fall), i)
            to = rec.time[i_to] + _parabolic(-fall, i_to) / rate - to_off
        else:
            to = rec.time[i] + _parabolic(smooth, i) / rate - to_off
        next_ic = ics[j + 1] if has_next else None
        if next_ic is not None and abs((next_ic - ics[j]) / period - 1.0) > settings.irregular:
            flags.append("irregular_stride")
        strides.append(Stride(len(strides), float(ics[j]), float(to),
                              None if next_ic is None else float(next_ic), peak_g[j], tuple(flags)))  # fmt: skip
    if not strides:
        raise NoStridesError(
            f"{where}: no complete stance found (recording {rec.duration_s:.2f} s)"
        )
    return GaitEvents(tuple(strides), float(period), rate, use, rec.source)
