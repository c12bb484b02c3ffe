"""Initial contact (IC) and toe-off (TO) from foot and tibia acceleration alone.

The rule (feature-based, in the style of Aubol & Milner 2020, J Biomech 105:109768, who identify
foot contact from features of a single triaxial accelerometer's signal; the exact features
below are footdt's own, chosen and checked against force-plate contacts on RBDS001, see
docs/gait.md):

1. ``s(t)`` = mean over the available sensors (foot, tibia) of the resultant specific force
   ``|f|`` in g. It is orientation-free, so sensor alignment does not matter for detection.
2. Stride period ``T`` = the lag of the autocorrelation maximum of ``s`` (80 ms moving mean)
   within ``[min_stride_s, max_stride_s]``: the first local maximum within 80 % of the highest,
   so neither a contralateral-step echo at ``T/2`` nor a multiple ``2T`` is taken. A weak
   maximum (< 0.2) means no strides.
3. **IC** = the impact peak of ``s``: peaks of ``s`` at least ``0.6 T`` apart and above
   ``min_impact_g`` (and above half the median peak, which drops non-stride bumps). If the
   highest peak is a late-swing bump, IC moves to the last local maximum before the steepest
   fall of ``s`` within 100 ms (the foot coming to rest). The time is refined by a parabola
   through the peak and its neighbours. At IC the swinging foot is arrested: the late-swing
   deceleration and the impact transient both peak there (RBDS001: 0-10 ms after the
   force-plate contact).
4. **TO** = the minimum of ``s`` (3-sample centred mean at 100 Hz) within
   ``[IC + 0.20 T, IC + 0.55 T]`` (and before the next IC): as the ground force vanishes the leg
   briefly approaches free fall, so ``|f|`` dips below 1 g between the push-off and early-swing
   peaks (RBDS001: the dip lags the 20 N force threshold by ~15 ms). A minimum on the edge of the
   window is flagged ``to_uncertain``; a stride more than 20 % off ``T`` ``irregular_stride``.

Times are in s; peaks in g. Strides whose TO window runs past the end of the recording are
dropped; the last complete one has no ``next_ic_s``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

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


DEFAULT_SETTINGS = DetectorSettings()


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


def _last_peak_before_drop(s: np.ndarray, p: int, w: int) -> int:
    """The last local maximum of ``s`` at or after ``p`` and before the steepest fall within
    ``w`` samples after ``p`` (the foot coming to rest right after contact)."""
    seg = s[p : p + w + 1]
    if len(seg) < 3:
        return p
    j = int(np.argmin(np.diff(seg)))
    for i in range(j, 0, -1):
        if seg[i] >= seg[i - 1] and seg[i] >= seg[i + 1]:
            return p + i
    return p


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
    peaks = np.array([_last_peak_before_drop(s, int(p), max(2, round(0.1 * rate))) for p in peaks])
    ics = [rec.time[p] + _parabolic(s, int(p)) / rate for p in peaks]
    strides: list[Stride] = []
    a, b = settings.to_window
    for j, p in enumerate(peaks):
        nxt = peaks[j + 1] if j + 1 < len(peaks) else None
        i0 = p + int(np.ceil(a * period * rate))
        i1 = p + int(np.floor(b * period * rate))
        if nxt is not None:
            i1 = min(i1, nxt - int(0.1 * period * rate))
        if i1 >= len(s) - 1 or i1 <= i0 + 1:
            continue
        i = i0 + int(np.argmin(smooth[i0 : i1 + 1]))
        flags = ["to_uncertain"] if i in (i0, i1) else []
        to = rec.time[i] + _parabolic(smooth, i) / rate
        next_ic = ics[j + 1] if nxt is not None else None
        if next_ic is not None and abs((next_ic - ics[j]) / period - 1.0) > settings.irregular:
            flags.append("irregular_stride")
        strides.append(Stride(len(strides), float(ics[j]), float(to),
                              None if next_ic is None else float(next_ic), float(s[p]), tuple(flags)))  # fmt: skip
    if not strides:
        raise NoStridesError(
            f"{where}: no complete stance found (recording {rec.duration_s:.2f} s)"
        )
    return GaitEvents(tuple(strides), float(period), rate, use, rec.source)
