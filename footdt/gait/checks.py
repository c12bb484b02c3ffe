"""Bad-input checks. Each finding is an ``Issue`` naming the sensor, source column and time.

Sample level (run by ``io`` on the raw columns, before any resampling could hide them):

- ``find_clipping``: flat tops at a column's extreme (>= 2 g): the maximum (or minimum) value
  held for consecutive samples, or recurring exactly at several impacts, is the sensor range.
- ``find_dropouts``: rows of exact zeros on all three axes (an accelerometer always feels
  gravity) become gaps (NaN), which ``io`` interpolates (short) or refuses (long) with the time;
  frozen samples (all three axes repeat exactly) are reported and their strides flagged.

Recording level: ``check_units``: the median |a| of a running recording is about 1-2 g; far
outside 0.3-4 g it was read in the wrong units. ``analyse`` runs it, detects events and runs the
stride-level checks.

Stride level (need detected events):

- ``check_rate``: a wrong declared sampling rate scales every duration; a stride period outside
  0.45-1.6 s or a mean stance outside 0.12-0.5 s is refused with the rate that would fit.
- ``check_gravity``: over whole strides (IC to next IC) a sensor's mean kinematic acceleration is
  zero (its motion repeats), so its mean specific force is gravity's reaction: about 1 g along
  +z, as the segments swing about the vertical (with fewer than two strides: 30-50 % of stance).
  Its magnitude catches wrong units (g declared as m/s^2 and back); its direction catches
  swapped or flipped axes. A mid-stance window alone is not enough: the tibia leans and brakes
  there, and reads about as much on -x as on +z (RBDS001: -1.1 g x, +1.1 g z). The late-swing
  deceleration (the 60 ms before IC) points along -x and pins the anterior axis, so the message
  can suggest the right declaration.
- ``check_side``: mirrored into the right-leg frame, the tibia's mid-stance specific force tilts
  medially (+y; RBDS001: +16 deg right, +22 deg left). A clearly lateral tilt (< -5 deg) is
  flagged as a possible left leg declared right (or the reverse).
- ``flag_strides``: strides overlapping a clipped, interpolated or frozen span get its code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from footdt.domain import AXES, TIBIA_SENSOR
from footdt.gait.events import DEFAULT_SETTINGS, DetectorSettings, GaitEvents, detect_events
from footdt.gait.recording import G, GaitDataError, Issue, Recording, units_hint


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of True runs."""
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def find_clipping(
    arr: np.ndarray,
    time: np.ndarray,
    sensor: str,
    columns: Sequence[str],
    *,
    source: str = "<memory>",
    min_run: int = 2,
    min_repeats: int = 3,
    min_level_g: float = 2.0,
) -> list[Issue]:
    """Issues (``clipped``), one per run of samples at a column's extreme (>= ``min_level_g``)
    when that exact value forms a run of >= ``min_run`` samples or recurs >= ``min_repeats``
    times: measured peaks never repeat to the last bit, a range limit does."""
    issues = []
    for k, col in enumerate(columns):
        v = arr[:, k]
        ok = np.isfinite(v)
        if not ok.any():
            continue
        for extreme in (np.max(v[ok]), np.min(v[ok])):
            if abs(extreme) < min_level_g * G:
                continue
            at = ok & np.isclose(v, extreme, rtol=1e-9, atol=0.0)
            runs = _runs(at)
            if not (any(b - a >= min_run for a, b in runs) or at.sum() >= min_repeats):
                continue
            issues += [
                Issue("clipped", f"{source}: column {col!r} is at its extreme {extreme / G:+.2f} g for "
                      f"{b - a} sample(s) at t={time[a]:.3f} s: the sensor clipped (range too small)",
                      "warning", sensor, col, float(time[a]), float(time[b - 1]))
                for a, b in runs
            ]  # fmt: skip
    return issues


def find_dropouts(
    arr: np.ndarray,
    time: np.ndarray,
    sensor: str,
    columns: Sequence[str],
    *,
    source: str = "<memory>",
    min_frozen: int = 3,
) -> tuple[np.ndarray, list[Issue]]:
    """Rows of exact zeros become NaN (a ``dropout`` issue; ``io`` then interpolates or refuses
    the gap). Frozen runs (>= ``min_frozen`` identical rows) are reported as ``frozen`` issues,
    one per run, but kept: a coarsely quantised sensor standing still can repeat legitimately."""
    out = arr.copy()
    issues = []
    zero = np.all(arr == 0.0, axis=1)
    if zero.any():
        out[zero] = np.nan
        first, last = np.flatnonzero(zero)[[0, -1]]
        issues.append(Issue(
            "dropout", f"{source}: sensor {sensor!r} ({', '.join(columns)}) has {int(zero.sum())} "
            f"rows of exact zeros from t={time[first]:.3f} s, treated as missing", "warning",
            sensor, columns[0], float(time[first]), float(time[last]),
        ))  # fmt: skip
    same = np.r_[
        False,
        np.all(arr[1:] == arr[:-1], axis=1) & ~zero[1:] & np.all(np.isfinite(arr[1:]), axis=1),
    ]
    for a, b in _runs(same):
        if b - a + 1 >= min_frozen:
            issues.append(Issue(
                "frozen", f"{source}: sensor {sensor!r} ({', '.join(columns)}) repeats the same "
                f"value for {b - a + 1} samples from t={time[a - 1]:.3f} s (a stuck sensor or dropout?)",
                "warning", sensor, columns[0], float(time[a - 1]), float(time[b - 1]),
            ))  # fmt: skip
    return out, issues


def _window_mean(rec: Recording, sensor: str, spans: list[tuple[float, float]]) -> np.ndarray:
    idx = np.concatenate([np.arange(rec.index_at(a), rec.index_at(b) + 1) for a, b in spans])
    return rec.acc[sensor][idx].mean(axis=0)


def check_rate(rec: Recording, events: GaitEvents) -> list[Issue]:
    """Refuse stride/stance durations no runner has (the declared rate is probably wrong)."""
    period = events.stride_period_s
    stance = float(np.median([s.stance_s for s in events.strides]))
    if 0.45 <= period <= 1.6 and 0.12 <= stance <= 0.5:
        return []
    guess = rec.rate_hz * period / 0.72
    return [Issue(
        "rate_implausible",
        f"{rec.source}: at the declared {rec.rate_hz:g} Hz the stride period is {period:.3f} s "
        f"({events.cadence_spm:.0f} steps/min) and stance {stance:.3f} s, which is not running "
        f"(stride 0.45-1.6 s, stance 0.12-0.5 s); was it sampled at about {guess:.0f} Hz? "
        "check --rate", "error",
    )]  # fmt: skip


def _flip(token: str) -> str:
    return token[1:] if token.startswith("-") else f"-{token}"


def _suggest(rec: Recording, sensor: str, z_dir: np.ndarray, x_dir: np.ndarray | None) -> str:
    """A ``sensor=...`` declaration that maps the measured directions onto +x and +z. The
    anterior axis comes first from the late-swing deceleration (3-7 g, unambiguous), then the
    superior one from gravity at mid-stance among the other two: a shank leaning ~45 deg at
    mid-stance reads gravity about equally on x and z (RBDS001 tibia: -1.1 g x, +1.1 g z)."""
    cols = rec.columns[sensor]
    if x_dir is not None:
        kx = int(np.argmax(np.abs(x_dir)))
        kz = max((k for k in range(3) if k != kx), key=lambda k: abs(z_dir[k]))
    else:
        kz = int(np.argmax(np.abs(z_dir)))
        kx = next(k for k in range(3) if k != kz)  # no late swing seen: x cannot be told
    z = cols[kz] if z_dir[kz] > 0 else _flip(cols[kz])
    x = cols[kx] if x_dir is None or x_dir[kx] > 0 else _flip(cols[kx])
    y = cols[3 - kz - kx]
    return f"{sensor}={x},{y},{z} (check the sign of y)"


def check_gravity(rec: Recording, events: GaitEvents) -> list[Issue]:
    """Units and axis orientation of each sensor from gravity over whole strides (module doc)."""
    whole = [(s.ic_s, s.next_ic_s) for s in events.strides if s.next_ic_s is not None]
    mid = whole or [(s.ic_s + 0.3 * s.stance_s, s.ic_s + 0.5 * s.stance_s) for s in events.strides]
    late = [(s.ic_s - 0.06, s.ic_s) for s in events.strides if s.ic_s - 0.06 >= rec.time[0]]
    issues = []
    for sensor in rec.sensors:
        m = _window_mean(rec, sensor, mid)
        mag = float(np.linalg.norm(m))
        if mag < 0.3 * G:
            issues.append(Issue("units", f"{rec.source}: {sensor}: mean |a| over strides is {mag:.2f} "
                                f"m/s^2 read as {rec.source_units}, expected about 1 g: "
                                f"{units_hint(mag, rec.source_units)}", "error", sensor))  # fmt: skip
            continue
        if mag > 4.0 * G:
            issues.append(Issue("units", f"{rec.source}: {sensor}: mean |a| over strides is "
                                f"{mag / G:.1f} g read as {rec.source_units}, expected about 1 g: "
                                f"{units_hint(mag, rec.source_units)}", "error", sensor))  # fmt: skip
            continue
        z_dir = m / mag
        x_raw = -_window_mean(rec, sensor, late) if late else None
        x = x_raw if x_raw is not None else np.array([1.0, 0.0, 0.0])
        x_dir = x - z_dir * (x @ z_dir)
        x_dir = x_dir / (np.linalg.norm(x_dir) or 1.0)
        z_ok = z_dir[2] >= 0.5
        x_ok = x_dir[0] >= 0.5 or not late
        if z_ok and x_ok:
            continue
        d = z_dir if not z_ok else x_dir
        k = int(np.argmax(np.abs(d)))
        axis = f"{'+' if d[k] > 0 else '-'}{AXES[k]} (column {rec.column(sensor, k)!r})"
        what = (
            f"gravity (mean over whole strides) reads along {axis}, mean {m[k]:+.2f} m/s^2"
            if not z_ok
            else f"the anterior direction (from the late-swing deceleration) reads along {axis}"
        )
        issues.append(Issue(
            "axes_swapped", f"{rec.source}: {sensor}: {what}; expected z superior and x anterior: "
            f"the axes look swapped or flipped; try --sensors {_suggest(rec, sensor, m, x_raw)}",
            "error", sensor, rec.column(sensor, k),
        ))  # fmt: skip
    return issues


def check_side(rec: Recording, events: GaitEvents, limit_deg: float = -5.0) -> list[Issue]:
    """Warn when the tibia tilts laterally at mid-stance (a left leg declared right, or back)."""
    if TIBIA_SENSOR not in rec.acc:
        return []
    mid = [(s.ic_s + 0.35 * s.stance_s, s.ic_s + 0.55 * s.stance_s) for s in events.strides]
    m = _window_mean(rec, TIBIA_SENSOR, mid)
    tilt = float(np.degrees(np.arctan2(m[1], m[2])))
    if tilt >= limit_deg:
        return []
    other = "left" if rec.side == "right" else "right"
    return [Issue(
        "side_mismatch",
        f"{rec.source}: tibia column {rec.column(TIBIA_SENSOR, 1)!r}: mid-stance specific force tilts "
        f"{-tilt:.0f} deg laterally, a {rec.side} leg tilts medially (RBDS001: +16/+22 deg); is this "
        f"a {other}-leg recording? check --side", "warning", TIBIA_SENSOR, rec.column(TIBIA_SENSOR, 1),
    )]  # fmt: skip


def flag_strides(events: GaitEvents, issues: Sequence[Issue]) -> GaitEvents:
    """Add an issue's code to every stride (IC to TO, widened by one sample) its span overlaps."""
    for issue in issues:
        if issue.t_start_s is None or issue.code not in ("clipped", "gap_interpolated", "frozen"):
            continue
        t0, t1 = issue.t_start_s, issue.t_end_s if issue.t_end_s is not None else issue.t_start_s
        pad = 1.0 / events.rate_hz  # a sample next to IC/TO is inside the stance's interpolation
        for s in events.strides:
            if t0 - pad <= s.to_s and t1 + pad >= s.ic_s:
                events = events.flag(s.index, issue.code)
    return events


def check_units(rec: Recording) -> list[Issue]:
    """Refuse a recording whose median |a| is far from running in m/s^2 (about 1-2 g)."""
    issues = []
    for sensor in rec.sensors:
        med = float(np.median(rec.resultant(sensor)))
        if 0.3 * G <= med <= 4.0 * G:
            continue
        issues.append(Issue(
            "units", f"{rec.source}: {sensor} ({', '.join(rec.columns[sensor])}): median |a| is "
            f"{med / G:.3g} g read as {rec.source_units}, a running recording has about 1-2 g; "
            f"{units_hint(med, rec.source_units)}", "error", sensor, rec.columns[sensor][2],
        ))  # fmt: skip
    return issues


def analyse(
    rec: Recording,
    sensors: tuple[str, ...] | None = None,
    settings: DetectorSettings = DEFAULT_SETTINGS,
    *,
    strict: bool = True,
) -> tuple[GaitEvents, list[Issue]]:
    """Units check (always refused: nothing else is meaningful), event detection, then
    ``run_checks``. Returns (flagged events, all issues)."""
    units = check_units(rec)
    if units:
        raise GaitDataError(units[0].message)
    return run_checks(rec, detect_events(rec, sensors, settings), strict=strict)


def run_checks(
    rec: Recording, events: GaitEvents, *, strict: bool = True
) -> tuple[GaitEvents, list[Issue]]:
    """All stride-level checks; flags strides; raises ``GaitDataError`` on the first error when
    ``strict``. Returns (flagged events, every issue including the recording's own)."""
    found = [*check_rate(rec, events)]
    if not found:
        found += check_gravity(rec, events)
        found += check_side(rec, events)
    errors = [i for i in found if i.severity == "error"]
    if strict and errors:
        raise GaitDataError(errors[0].message)
    issues = [*rec.issues, *found]
    return flag_strides(events, issues), issues
