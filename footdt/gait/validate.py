"""Reference contacts from a force plate, and matching detected events against them.

``force_contacts``: contacts from one vertical force channel (a treadmill plate under both feet,
or one plate per foot), with every level relative to the runner and the plate, not to a fixed
number of newtons:

1. **Sign**: a plate whose z axis points down reads the load negative; the channel is flipped
   when its largest excursion is negative.
2. **Baseline**: running has a flight phase, so the unloaded level is the median of the samples
   within 5 % of the force range above the 1st percentile, estimated in windows of
   ``baseline_window_s`` and interpolated between them (a drifting or offset plate is followed);
   the noise is 1.4826 x the median absolute deviation of those samples.
3. **Body weight**: over whole steps the mean vertical force of steady running is the body weight
   (the vertical impulse of a step equals BW x step time), so BW = the mean force above baseline
   from the first to the last contact onset, unless it is given.
4. **Contacts**: a contact is a run above ``detect_bw`` x BW (and 6 noise SDs; chatter and spikes
   in flight never reach it), extended backwards and forwards to the first sample at or below the
   timing level ``on_bw`` x BW (and 4 noise SDs); two such runs with no sample at or below the
   timing level between them are one loaded span. On and off are interpolated linearly at the
   timing level.
5. **Complete contacts only**: spans touching the start or end of the recording, holding NaN, or
   shorter than ``min_contact_s`` are dropped; a span longer than ``max(1.6 x the median contact,
   median + 0.5 x median step)`` holds two feet at once (no flight between them) and is not a
   contact either (``merged_s``). Every dropped span is counted. A force whose unloaded spans
   last a median < 15 ms (no flight phase at all: the "baseline" would be a loaded valley) is
   refused.

``assign_feet``: which foot each contact on a shared plate belongs to. Contacts alternate in
running, so within every run of steps with no gap (step interval < 1.5 x the median) one phase
choice decides every contact, taken by the majority of per-contact evidence (e.g. the height of
the lowest foot marker, or the lateral centre of pressure); a gap starts a new run. Contacts
whose own evidence disagrees with the alternation are reported.

``leave_one_out``: the validation protocol. Recordings with reference contacts (``Labelled``)
are grouped (a group is held out whole: both legs of one trial); for each group the detector's
learned parameters (``fit_offsets``: the IC and TO offsets) come from the other groups only,
and the held-out recordings are scored with them.

``match_events``: each reference time is matched to the nearest detected time within
``tolerance_s``; unmatched references are misses, unmatched detections false detections.
Errors are detected minus reference (s): positive means late.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from footdt.gait.recording import GaitDataError, Recording

if TYPE_CHECKING:
    from footdt.gait.events import DetectorSettings, GaitEvents


@dataclass(frozen=True)
class ForceContacts:
    """Complete contacts ``(n, 2)`` [on, off] in s and how they were found (N, s)."""

    contacts_s: np.ndarray
    body_weight_n: float
    body_weight_estimated_n: float
    baseline_n: float
    noise_n: float
    on_threshold_n: float
    detect_threshold_n: float
    sign: int
    n_incomplete: int = 0
    n_short: int = 0
    merged_s: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    @property
    def n(self) -> int:
        return len(self.contacts_s)

    def summary(self) -> dict[str, float | int]:
        return {
            "n_contacts": self.n,
            "body_weight_n": self.body_weight_n,
            "body_weight_estimated_n": self.body_weight_estimated_n,
            "baseline_n": self.baseline_n,
            "noise_n": self.noise_n,
            "on_threshold_n": self.on_threshold_n,
            "detect_threshold_n": self.detect_threshold_n,
            "sign": self.sign,
            "n_incomplete": self.n_incomplete,
            "n_short": self.n_short,
            "n_merged": len(self.merged_s),
        }


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def force_baseline(
    f: np.ndarray, rate_hz: float, window_s: float = 4.0
) -> tuple[np.ndarray, float]:
    """Per-sample unloaded level of a vertical force (N) and the noise SD there (see the module
    docstring, step 2). Raises ``GaitDataError`` when the force never returns near its minimum
    (no flight phase: the baseline cannot be seen)."""
    ok = np.isfinite(f)
    lo, hi = np.percentile(f[ok], [1, 99])
    near = ok & (f <= lo + 0.05 * (hi - lo))
    if near.sum() < max(10, 0.02 * ok.sum()):
        raise GaitDataError(
            f"the force returns to its unloaded level in only {int(near.sum())} of {int(ok.sum())} "
            "samples: no flight phase to take the baseline from (running on one plate needs one)"
        )
    level = float(np.median(f[near]))
    w = max(1, int(window_s * rate_hz))
    centres, values = [], []
    for a in range(0, len(f), w):
        sel = near[a : a + w]
        if sel.sum() >= 10:
            centres.append(a + 0.5 * min(w, len(f) - a))
            values.append(float(np.median(f[a : a + w][sel])))
    base = (
        np.interp(np.arange(len(f)), centres, values)
        if len(values) >= 2
        else np.full(len(f), level)
    )
    dev = (f - base)[near]
    noise = float(1.4826 * np.median(np.abs(dev - np.median(dev))))
    return base, noise


def force_contacts(
    fz: np.ndarray,
    rate_hz: float,
    body_weight_n: float | None = None,
    *,
    on_bw: float = 0.05,
    detect_bw: float = 0.10,
    on_threshold_n: float | None = None,
    min_contact_s: float = 0.08,
    baseline_window_s: float = 4.0,
    t0_s: float = 0.0,
) -> ForceContacts:
    """Complete contacts of a vertical force channel (see the module docstring).
    ``on_threshold_n`` (N above baseline) replaces the relative timing level ``on_bw``."""
    f = np.asarray(fz, float).ravel()
    if f.size < 10 or not np.isfinite(f).any():
        raise GaitDataError("force channel is empty or all NaN")
    ok = np.isfinite(f)
    lo, hi = np.percentile(f[ok], [0.5, 99.5])
    sign = -1 if abs(lo) > abs(hi) else 1
    f = sign * f
    base, noise = force_baseline(f, rate_hz, baseline_window_s)
    f0 = np.where(ok, f - base, np.nan)
    amp = float(np.nanpercentile(f0, 99))
    # provisional onsets (20 % of the peak) for the body-weight estimate over whole steps
    prov = [
        a for a, b in _runs(np.nan_to_num(f0) > 0.2 * amp) if (b - a) / rate_hz >= min_contact_s
    ]
    bw_est = float(np.nanmean(f0[prov[0] : prov[-1]])) if len(prov) >= 3 else float(np.nanmean(f0))
    bw = float(body_weight_n) if body_weight_n is not None else bw_est
    if not bw > 0:
        raise GaitDataError(f"body weight must be > 0 N, got {bw:g}")
    detect = max(detect_bw * bw, 6.0 * noise)
    on = on_threshold_n if on_threshold_n is not None else max(on_bw * bw, 3.0 * noise)
    on = min(on, 0.5 * detect)
    x = np.nan_to_num(f0, nan=np.inf)  # NaN never counts as unloaded
    low = np.flatnonzero(x <= on)
    spans: list[list[int]] = []  # [first loaded sample, one past the last]
    n = len(f0)
    for a, b in _runs(np.nan_to_num(f0) > detect):
        k = np.searchsorted(low, a)  # first unloaded sample before a: low[k-1]
        start = int(low[k - 1]) + 1 if k > 0 else 0
        m = np.searchsorted(low, b)
        stop = int(low[m]) if m < len(low) else n
        if spans and start <= spans[-1][1]:  # never unloaded in between: one span
            spans[-1][1] = max(spans[-1][1], stop)
        else:
            spans.append([start, stop])
    gaps = np.diff(np.array(spans, float).reshape(-1, 2).ravel())[1::2] / rate_hz
    if len(gaps) >= 2 and np.median(gaps) < 0.015:
        raise GaitDataError(
            f"the force returns to its unloaded level ({np.median(base):.0f} N + {on:.0f} N) for "
            f"a median {1e3 * np.median(gaps):.0f} ms between loaded spans: no flight phase, so "
            "the unloaded level is not seen and contacts cannot be told apart (record the feet "
            "on separate plates)"
        )
    incomplete, short, loaded = 0, 0, []
    for a, b in spans:
        if a == 0 or b >= n or not np.all(ok[a - 1 : b + 1]):
            incomplete += 1
            continue
        if (b - a) / rate_hz < min_contact_s:
            short += 1
            continue
        t_on = a - 1 + (on - f0[a - 1]) / (f0[a] - f0[a - 1])
        t_off = b - 1 + (f0[b - 1] - on) / (f0[b - 1] - f0[b])
        loaded.append((t0_s + t_on / rate_hz, t0_s + t_off / rate_hz))
    arr = np.array(loaded, float).reshape(-1, 2)
    merged = np.zeros((0, 2))
    if len(arr) >= 3:
        dur = arr[:, 1] - arr[:, 0]
        step = float(np.median(np.diff(arr[:, 0])))
        med = float(np.median(dur))
        two = dur > max(1.6 * med, med + 0.5 * step)
        merged, arr = arr[two], arr[~two]
    out = arr
    if not len(out) and not len(merged):
        raise GaitDataError(
            f"no complete contact in {len(f0) / rate_hz:.1f} s of force: it never returns to its "
            f"unloaded level ({np.median(base):.0f} N + {on:.0f} N) between contacts (no flight "
            f"phase?), or the recording holds less than one contact ({len(spans)} loaded span(s))"
        )
    return ForceContacts(
        contacts_s=out, body_weight_n=bw, body_weight_estimated_n=bw_est,
        baseline_n=float(np.median(base)), noise_n=noise, on_threshold_n=float(on),
        detect_threshold_n=float(detect), sign=sign, n_incomplete=incomplete, n_short=short,
        merged_s=merged,
    )  # fmt: skip


def contacts_from_force(
    fz: np.ndarray,
    rate_hz: float,
    threshold_n: float | None = None,
    min_contact_s: float = 0.08,
    t0_s: float = 0.0,
    body_weight_n: float | None = None,
) -> np.ndarray:
    """``(n, 2)`` complete contact [on, off] times in s (``force_contacts``); ``threshold_n`` is
    the timing level in N above the baseline (default 3 % of body weight)."""
    return force_contacts(
        fz, rate_hz, body_weight_n, on_threshold_n=threshold_n, min_contact_s=min_contact_s,
        t0_s=t0_s,
    ).contacts_s  # fmt: skip


@dataclass(frozen=True)
class FeetAssignment:
    """``right`` (bool per contact), the alternating runs (index ranges), and the contacts
    whose own evidence disagrees with the alternation."""

    right: np.ndarray
    runs: tuple[tuple[int, int], ...]
    disagree: np.ndarray

    def split(self, contacts: np.ndarray) -> dict[str, np.ndarray]:
        return {"right": contacts[self.right], "left": contacts[~self.right]}


def assign_feet(
    contacts_s: np.ndarray, evidence: np.ndarray, max_step_ratio: float = 1.5
) -> FeetAssignment:
    """Assign contacts to feet (see the module docstring): ``evidence`` per contact, > 0 for
    the right foot, < 0 for the left, 0 (or NaN) for no opinion."""
    c = np.asarray(contacts_s, float).reshape(-1, 2)
    e = np.nan_to_num(np.asarray(evidence, float), nan=0.0)
    n = len(c)
    right = np.zeros(n, bool)
    if n == 0:
        return FeetAssignment(right, (), np.zeros(0, int))
    steps = np.diff(c[:, 0])
    med = float(np.median(steps)) if len(steps) else np.inf
    breaks = [0, *(np.flatnonzero(steps > max_step_ratio * med) + 1).tolist(), n]
    runs = []
    for a, b in itertools.pairwise(breaks):
        idx = np.arange(a, b)
        even = (idx - a) % 2 == 0
        vote = np.sign(e[idx])
        score = float(np.sum(np.where(even, vote, -vote)))  # > 0: even contacts are right
        if score == 0:
            raise GaitDataError(
                f"contacts {a}-{b - 1} ({c[a, 0]:.2f}-{c[b - 1, 0]:.2f} s): the evidence does not "
                "tell which foot is on the plate"
            )
        right[idx] = even if score > 0 else ~even
        runs.append((a, b))
    disagree = np.flatnonzero((e != 0) & (np.sign(e) != np.where(right, 1.0, -1.0)))
    return FeetAssignment(right, tuple(runs), disagree)


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


# --- leave-one-recording-out validation --------------------------------------------------------


@dataclass(frozen=True)
class Labelled:
    """A recording with reference contacts ``(n, 2)`` [IC, TO] in s. ``group`` is the unit held
    out together (a trial: both legs of one treadmill run share their runner and session)."""

    name: str
    group: str
    recording: Recording
    contacts_s: np.ndarray


def score(
    events: GaitEvents, contacts_s: np.ndarray, tolerance_s: float = 0.1
) -> tuple[Match, Match]:
    """IC and TO matches of detected strides against reference contacts. Detections more than
    half a stride outside the span of the reference contacts are not scored (no reference
    there); every reference contact is."""
    ref = np.asarray(contacts_s, float).reshape(-1, 2)
    half = 0.5 * events.stride_period_s
    ic = np.array([s.ic_s for s in events.strides])
    to = np.array([s.to_s for s in events.strides])
    if not len(ref):
        return Match(np.zeros(0), np.zeros(0), ic), Match(np.zeros(0), np.zeros(0), to)
    m_ic = match_events(ic, ref[:, 0], tolerance_s, (ref[0, 0] - half, ref[-1, 0] + half))
    m_to = match_events(to, ref[:, 1], tolerance_s, (ref[0, 1] - half, ref[-1, 1] + half))
    return m_ic, m_to


def pool(matches: list[Match]) -> Match:
    """One ``Match`` holding all errors, misses and false detections of several."""
    return Match(
        np.concatenate([m.errors_s for m in matches]) if matches else np.zeros(0),
        np.concatenate([m.missed_s for m in matches]) if matches else np.zeros(0),
        np.concatenate([m.false_s for m in matches]) if matches else np.zeros(0),
    )


def fit_offsets(
    train: list[Labelled],
    sensors: tuple[str, ...] | None = None,
    settings: DetectorSettings | None = None,
    tolerance_s: float = 0.1,
) -> DetectorSettings:
    """``settings`` with ``ic_offset_s`` and ``to_offset_s`` learned from ``train`` only: the
    detector runs with both offsets 0, and each offset is the median over the training
    recordings of the recording's median error (detected - reference), so every recording
    weighs the same whatever its length."""
    from dataclasses import replace

    from footdt.gait.events import DEFAULT_SETTINGS, detect_events

    base = replace(settings or DEFAULT_SETTINGS, ic_offset_s=0.0, to_offset_s=0.0)
    ic_med, to_med = [], []
    for item in train:
        m_ic, m_to = score(detect_events(item.recording, sensors, base), item.contacts_s,
                           tolerance_s)  # fmt: skip
        if len(m_ic.errors_s):
            ic_med.append(float(np.median(m_ic.errors_s)))
        if len(m_to.errors_s):
            to_med.append(float(np.median(m_to.errors_s)))
    if not ic_med:
        raise GaitDataError("no training recording has a detected stride matching its contacts")
    return replace(base, ic_offset_s=float(np.median(ic_med)),
                   to_offset_s=float(np.median(to_med)) if to_med else 0.0)  # fmt: skip


def leave_one_out(
    items: list[Labelled],
    sensors: tuple[str, ...] | None = None,
    settings: DetectorSettings | None = None,
    tolerance_s: float = 0.1,
) -> dict[str, Any]:
    """Leave-one-group-out: for every group, learn the offsets from the other groups' recordings
    (``fit_offsets``), detect on the held-out group's recordings and score them. Returns per
    recording the IC/TO summaries, stance medians and the fold's learned offsets (ms), and the
    pooled IC/TO summaries over all held-out recordings."""
    from footdt.gait.events import detect_events

    groups = sorted({i.group for i in items})
    if len(groups) < 2:
        raise GaitDataError("leave-one-out needs recordings from at least two groups")
    rows: dict[str, Any] = {}
    all_ic, all_to = [], []
    for g in groups:
        fitted = fit_offsets([i for i in items if i.group != g], sensors, settings, tolerance_s)
        for item in (i for i in items if i.group == g):
            ev = detect_events(item.recording, sensors, fitted)
            m_ic, m_to = score(ev, item.contacts_s, tolerance_s)
            all_ic.append(m_ic)
            all_to.append(m_to)
            ref = item.contacts_s
            rows[item.name] = {
                "group": g,
                "rate_hz": item.recording.rate_hz,
                "n_contacts": len(ref),
                "n_detected": len(ev.strides),
                "ic": m_ic.summary(),
                "to": m_to.summary(),
                "stance_s_median": float(np.median([s.stance_s for s in ev.strides])),
                "force_stance_s_median": float(np.median(ref[:, 1] - ref[:, 0])),
                "learned_ic_offset_ms": 1e3 * float(fitted.ic_offset_s or 0.0),
                "learned_to_offset_ms": 1e3 * float(fitted.to_offset_s or 0.0),
            }
    return {
        "recordings": rows,
        "pooled": {"ic": pool(all_ic).summary(), "to": pool(all_to).summary()},
    }
