"""The three stance phases and the network input: 100 samples per phase, (300, 6) per stance.

Phase boundaries are fractions of stance (IC = 0, TO = 1):

- ``initial_contact``: 0 - 20 %: contact, the impact peak (10-15 % of stance in rearfoot
  strikers, REFERENCE.md) and loading until the foot is flat;
- ``mid_stance``: 20 - 55 %: foot flat, the body passes over the foot, until heel-off;
- ``push_off``: 55 - 100 %: heel-off to toe-off.

These fixed fractions are footdt's default (``DEFAULT_BOUNDS``) for IMU-only recordings. With
plantar pressure, ``bounds_from_pressure`` puts the boundaries at the measured foot-flat (first
sample where both rearfoot and forefoot carry > 5 % of their peak) and heel-off (last sample where
the rearfoot does), within the same stance.

Each phase is resampled to ``samples_per_phase`` (100) points at the centres of equal time bins,
by linear interpolation of the recording (m/s^2). Channels: foot ax, ay, az, tibia ax, ay, az.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from footdt.domain import CHANNELS, FOREFOOT, PHASES, REARFOOT, SENSORS
from footdt.gait.events import GaitEvents, Stride
from footdt.gait.pressure import RegionalPressure
from footdt.gait.recording import ACC_UNITS, GaitDataError, Recording

SAMPLES_PER_PHASE = 100


@dataclass(frozen=True)
class PhaseBounds:
    """End of initial_contact and start of push_off as fractions of stance, and their origin."""

    ic_end: float = 0.20
    push_start: float = 0.55
    source: str = "fixed fractions"

    def __post_init__(self) -> None:
        if not 0.0 < self.ic_end < self.push_start < 1.0:
            raise GaitDataError(
                f"phase bounds need 0 < ic_end < push_start < 1, got {self.ic_end}, {self.push_start}"
            )

    def intervals(self, stride: Stride) -> dict[str, tuple[float, float]]:
        """``{phase: (t0, t1)}`` in s for one stance."""
        cuts = (0.0, self.ic_end, self.push_start, 1.0)
        return {p: (stride.ic_s + a * stride.stance_s, stride.ic_s + b * stride.stance_s)
                for p, a, b in zip(PHASES, cuts[:-1], cuts[1:], strict=True)}  # fmt: skip


DEFAULT_BOUNDS = PhaseBounds()


def bounds_from_pressure(
    pressure: RegionalPressure, stride: Stride, level: float = 0.05
) -> PhaseBounds:
    """Foot-flat and heel-off of one stance from regional pressure (falls back to the defaults
    for a boundary the pressure cannot show, e.g. no rearfoot load in a forefoot strike)."""
    sel = (pressure.time >= stride.ic_s) & (pressure.time <= stride.to_s)
    if sel.sum() < 5:
        raise GaitDataError(
            f"{pressure.source}: fewer than 5 pressure samples in the stance at {stride.ic_s:.3f} s"
        )
    t = (pressure.time[sel] - stride.ic_s) / stride.stance_s
    rear = pressure.pressure[REARFOOT][sel]
    fore = pressure.pressure[FOREFOOT][sel]
    on_r, on_f = rear > level * rear.max(), fore > level * fore.max()
    ic_end, push = DEFAULT_BOUNDS.ic_end, DEFAULT_BOUNDS.push_start
    both = np.flatnonzero(on_r & on_f)
    if rear.max() > 0 and fore.max() > 0 and len(both):
        ic_end = float(np.clip(t[both[0]], 0.05, 0.5))
        push = float(np.clip(t[np.flatnonzero(on_r)[-1]], ic_end + 0.1, 0.95))
    return PhaseBounds(ic_end, push, "plantar pressure (foot flat, heel-off)")


def normalise(rec: Recording, t0: float, t1: float, n: int = SAMPLES_PER_PHASE) -> np.ndarray:
    """``(n, 6)`` foot+tibia specific force (m/s^2) at ``n`` bin centres of [t0, t1]."""
    missing = [s for s in SENSORS if s not in rec.acc]
    if missing:
        raise GaitDataError(
            f"{rec.source}: windows need both sensors {' and '.join(SENSORS)} (channels "
            f"{', '.join(CHANNELS)}); missing {', '.join(missing)}: declare it with --sensors"
        )
    if t0 < rec.time[0] or t1 > rec.time[-1] or t1 <= t0:
        raise GaitDataError(f"{rec.source}: phase {t0:.3f}-{t1:.3f} s is outside the recording")
    tq = t0 + (np.arange(n) + 0.5) * (t1 - t0) / n
    cols = [np.interp(tq, rec.time, rec.acc[s][:, k]) for s in SENSORS for k in range(3)]
    return np.stack(cols, axis=1)


def stride_window(rec: Recording, stride: Stride, bounds: PhaseBounds = DEFAULT_BOUNDS,
                  samples_per_phase: int = SAMPLES_PER_PHASE) -> np.ndarray:  # fmt: skip
    """``(3 * samples_per_phase, 6)``: the three phases of one stance, each time-normalised."""
    iv = bounds.intervals(stride)
    return np.concatenate([normalise(rec, *iv[p], samples_per_phase) for p in PHASES], axis=0)


@dataclass(frozen=True)
class Windows:
    """Network inputs of one recording: ``data`` (n_strides, 300, 6) in m/s^2, per-stride rows."""

    data: np.ndarray
    strides: tuple[dict[str, object], ...]
    meta: dict[str, object] = field(default_factory=dict)
    channels: tuple[str, ...] = CHANNELS
    phases: tuple[str, ...] = PHASES
    samples_per_phase: int = SAMPLES_PER_PHASE
    units: str = ACC_UNITS

    def save(self, path: str | Path) -> Path:
        """Write ``.npz``: ``windows``, ``channels``, ``phases``, ``samples_per_phase``,
        ``units``, per-stride ``stride_index``/``ic_s``/``to_s``/``stance_s``, and JSON
        ``strides`` and ``meta``."""
        p = Path(path)
        arrays: dict[str, np.ndarray] = {
            k: np.array([s[k] for s in self.strides], float) for k in ("ic_s", "to_s", "stance_s")
        }
        arrays.update(
            windows=self.data, channels=np.array(self.channels), phases=np.array(self.phases),
            samples_per_phase=np.array(self.samples_per_phase), units=np.array(self.units),
            stride_index=np.array([s["index"] for s in self.strides], int),
            strides=np.array(json.dumps(list(self.strides))), meta=np.array(json.dumps(self.meta)),
        )  # fmt: skip
        np.savez_compressed(p, **arrays)  # type: ignore[arg-type]
        return p


def load_windows(path: str | Path) -> Windows:
    """Read a ``Windows`` written by ``Windows.save``."""
    with np.load(path, allow_pickle=False) as z:
        return Windows(
            data=z["windows"], strides=tuple(json.loads(str(z["strides"]))), meta=json.loads(str(z["meta"])),
            channels=tuple(str(c) for c in z["channels"]), phases=tuple(str(p) for p in z["phases"]),
            samples_per_phase=int(z["samples_per_phase"]), units=str(z["units"]),
        )  # fmt: skip


def make_windows(rec: Recording, events: GaitEvents, bounds: PhaseBounds = DEFAULT_BOUNDS, *,
                 keep_flagged: bool = False) -> Windows:  # fmt: skip
    """Windows of every stride (of unflagged strides unless ``keep_flagged``)."""
    use = [s for s in events.strides if keep_flagged or not s.flags]
    if not use:
        raise GaitDataError(
            f"{rec.source}: all {len(events.strides)} strides are flagged "
            f"({', '.join(sorted({f for s in events.strides for f in s.flags}))}); "
            "fix the recording or keep them with --keep-flagged"
        )
    data = np.stack([stride_window(rec, s, bounds) for s in use])
    meta = {"source": rec.source, "side": rec.side, "mirrored": rec.mirrored, "rate_hz": rec.rate_hz,
            "source_units": rec.source_units, "phase_bounds": [bounds.ic_end, bounds.push_start],
            "phase_bounds_source": bounds.source, "n_detected": len(events.strides),
            "n_dropped_flagged": len(events.strides) - len(use)}  # fmt: skip
    return Windows(data, tuple(s.as_dict() for s in use), meta)
