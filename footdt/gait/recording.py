"""An accelerometer recording in footdt's conventions, and the findings attached to it.

Conventions (DESIGN.md): accelerations are **specific force** (what an accelerometer measures:
kinematic acceleration minus gravity, so a sensor at rest reads +9.81 m/s^2 "up") in **m/s^2**,
time in **s**. Every sensor's axes are those of its segment in the right-foot frame: x anterior,
y to the runner's left (medial for a right leg), z superior. A left-leg recording is mirrored into
that frame on import (y -> -y), and says so in ``mirrored``.

The two sensors of the paper are ``foot`` (foot dorsum) and ``tibia`` (distal anteromedial
tibia); their channels are always ordered foot ax, ay, az, tibia ax, ay, az (``CHANNELS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Literal

import numpy as np

from footdt.domain import SENSORS
from footdt.errors import FootdtError

#: Standard gravity (m/s^2): the factor between g and m/s^2.
G: Final[float] = 9.80665
ACC_UNITS: Final[str] = "m/s^2"
Side = Literal["right", "left"]
SIDES: Final[tuple[str, ...]] = ("right", "left")


#: Acceleration units a file may be declared in, and their factor to m/s^2.
UNIT_FACTORS: Final[dict[str, float]] = {"g": G, "m/s2": 1.0, "m/s^2": 1.0, "mps2": 1.0, "ms2": 1.0}
#: A running recording's median / mid-stance |specific force| lies in this band (m/s^2).
RUNNING_BAND: Final[tuple[float, float]] = (0.3 * G, 4.0 * G)


def units_hint(value_ms2: float, declared: str) -> str:
    """What to do about a typical |a| (m/s^2, read with the ``declared`` units) outside
    ``RUNNING_BAND``: the other unit if it fits, never the one already in force."""
    key = declared.strip().lower().replace(" ", "")
    raw = value_ms2 / UNIT_FACTORS.get(key, 1.0)
    for unit in ("g", "m/s^2"):
        if UNIT_FACTORS[unit] == UNIT_FACTORS.get(key, 1.0):
            continue
        if RUNNING_BAND[0] <= raw * UNIT_FACTORS[unit] <= RUNNING_BAND[1]:
            return f"the file is probably in {unit}: use --units {unit}"
    return (f"neither g nor m/s^2 gives 1-2 g (the file's values are about {raw:.3g}): check the "
            "columns and their scale (raw sensor counts? mm/s^2?) and convert them to g or m/s^2")  # fmt: skip


class GaitDataError(FootdtError):
    """A gait recording cannot be used as given; the message names file, column and time."""


class NoStridesError(GaitDataError):
    """No running strides were found in a recording."""


@dataclass(frozen=True)
class Issue:
    """One finding about a recording: what, where (sensor, source column, time in s), how bad.

    ``severity`` is ``"error"`` (the recording or stride must not be used as is) or
    ``"warning"`` (usable, but flagged). ``code`` is a stable identifier (e.g. ``clipped``,
    ``gap_interpolated``, ``axes_swapped``) that tests and JSON output rely on.
    """

    code: str
    message: str
    severity: Literal["error", "warning"] = "warning"
    sensor: str | None = None
    column: str | None = None
    t_start_s: float | None = None
    t_end_s: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "sensor": self.sensor,
            "column": self.column,
            "t_start_s": self.t_start_s,
            "t_end_s": self.t_end_s,
        }


@dataclass(frozen=True)
class Recording:
    """Uniformly sampled specific force of one leg's sensors (m/s^2, right-foot segment frames).

        ``time`` (s) has ``n`` strictly increasing samples at ``rate_hz``; ``acc[sensor]`` is an
        ``(n, 3)`` array. ``columns[sensor]`` are the declared source columns of x, y, z (a leading
    ``-`` marks a flipped axis; for messages),
        ``source_units`` what the file held (``g`` or ``m/s^2``), ``issues`` what ingestion found
        (interpolated gaps, clipping) with times.
    """

    time: np.ndarray
    rate_hz: float
    acc: Mapping[str, np.ndarray]
    side: Side = "right"
    source: str = "<memory>"
    columns: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    source_units: str = ACC_UNITS
    mirrored: bool = False
    issues: tuple[Issue, ...] = ()

    def __post_init__(self) -> None:
        t = np.asarray(self.time, dtype=float)
        object.__setattr__(self, "time", t)
        if t.ndim != 1 or len(t) < 2:
            raise GaitDataError(f"{self.source}: a recording needs at least 2 samples")
        if not np.isfinite(self.rate_hz) or self.rate_hz <= 0:
            raise GaitDataError(f"{self.source}: sampling rate must be > 0 Hz, got {self.rate_hz}")
        if self.side not in SIDES:
            raise GaitDataError(f"{self.source}: side must be 'right' or 'left', got {self.side!r}")
        if not self.acc:
            raise GaitDataError(f"{self.source}: no sensors (declare e.g. foot=ax,ay,az)")
        acc = {}
        for name, a in self.acc.items():
            arr = np.asarray(a, dtype=float)
            if arr.shape != (len(t), 3):
                raise GaitDataError(
                    f"{self.source}: sensor {name!r} has shape {arr.shape}, expected ({len(t)}, 3)"
                )
            acc[name] = arr
        object.__setattr__(self, "acc", acc)
        cols = {n: tuple(self.columns.get(n, (f"{n}_ax", f"{n}_ay", f"{n}_az"))) for n in acc}
        object.__setattr__(self, "columns", cols)

    @property
    def n(self) -> int:
        return len(self.time)

    @property
    def duration_s(self) -> float:
        return float(self.time[-1] - self.time[0])

    @property
    def sensors(self) -> tuple[str, ...]:
        """Sensor names, in ``SENSORS`` order first, then any others alphabetically."""
        known = [s for s in SENSORS if s in self.acc]
        return (*known, *sorted(s for s in self.acc if s not in SENSORS))

    def resultant(self, sensor: str) -> np.ndarray:
        """|specific force| of one sensor (m/s^2), shape (n,)."""
        return np.linalg.norm(self.acc[sensor], axis=1)

    def column(self, sensor: str, axis: int) -> str:
        """The source column of a sensor axis (0=x, 1=y, 2=z), for messages."""
        return self.columns[sensor][axis]

    def index_at(self, t: float) -> int:
        """Index of the sample nearest to time ``t`` (s)."""
        return int(np.clip(np.rint((t - self.time[0]) * self.rate_hz), 0, self.n - 1))

    def with_issues(self, *issues: Issue) -> Recording:
        return replace(self, issues=(*self.issues, *issues))
