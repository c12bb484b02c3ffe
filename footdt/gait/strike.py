"""Strike index: where along the foot the centre of pressure (COP) lies at initial contact.

``strike_index = (COP - heel) . u / foot_length`` with ``u`` the unit heel -> toe vector, so 0 is
the heel and 1 the tip of the longest toe (Cavanagh & Lafortune 1980). The paper's groups
(REFERENCE.md): index <= 1/3 is a **rearfoot** strike (RFS); otherwise **non-rearfoot** (NRFS),
split into midfoot (1/3 < index <= 2/3) and forefoot (> 2/3).

Initial contact on a plate is the first frame whose total force under the foot exceeds
``threshold_n`` (default 20 N); the COP of that frame gives the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from footdt.domain import (
    FOREFOOT_STRIKE,
    MIDFOOT_STRIKE,
    NON_REARFOOT,
    REARFOOT_STRIKE,
    StrikeClass,
    StrikeGroup,
)
from footdt.gait.pressure import PressureFrames
from footdt.gait.recording import GaitDataError, Side

#: Upper bounds of rearfoot and midfoot strike indices (fractions of foot length).
REARFOOT_MAX: Final[float] = 1.0 / 3.0
MIDFOOT_MAX: Final[float] = 2.0 / 3.0


def strike_index(cop_mm: np.ndarray, heel_mm: np.ndarray, toe_mm: np.ndarray) -> float:
    """COP position along the heel -> toe axis as a fraction of foot length (any 2D/3D mm)."""
    heel = np.asarray(heel_mm, float)
    axis = np.asarray(toe_mm, float) - heel
    length = float(np.linalg.norm(axis))
    if length <= 0:
        raise GaitDataError("strike index: heel and toe points coincide (foot length 0)")
    cop = np.asarray(cop_mm, float)
    if not np.all(np.isfinite(cop)):
        raise GaitDataError("strike index: the centre of pressure at initial contact is undefined")
    return float((cop - heel) @ axis / length**2)


def strike_class(index: float) -> StrikeClass:
    """rearfoot (<= 1/3), midfoot (<= 2/3) or forefoot."""
    if index <= REARFOOT_MAX:
        return REARFOOT_STRIKE
    return MIDFOOT_STRIKE if index <= MIDFOOT_MAX else FOREFOOT_STRIKE


def strike_group(index: float) -> StrikeGroup:
    """The paper's two groups: rearfoot (index <= 1/3) or non_rearfoot."""
    return REARFOOT_STRIKE if index <= REARFOOT_MAX else NON_REARFOOT


@dataclass(frozen=True)
class Strike:
    """Strike index at IC, its class and group, the IC time (s) and COP (mm)."""

    index: float
    strike_class: StrikeClass
    group: StrikeGroup
    ic_s: float
    cop_mm: tuple[float, float]

    def as_dict(self) -> dict[str, object]:
        return {"strike_index": self.index, "strike_class": self.strike_class, "group": self.group,
                "ic_s": self.ic_s, "cop_mm": list(self.cop_mm)}  # fmt: skip


def strike_from_frames(
    frames: PressureFrames, side: Side = "right", threshold_n: float = 20.0
) -> Strike:
    """Strike of one foot on a plate recording (see the module docstring)."""
    if side not in frames.feet:
        raise GaitDataError(f"{frames.source}: no {side} foot mask for the strike index")
    fm = frames.feet[side]
    force = frames.force_n(fm.foot)
    loaded = np.flatnonzero(force > threshold_n)
    if not len(loaded):
        raise GaitDataError(
            f"{frames.source}: the {side} foot never carries {threshold_n:g} N (max {force.max():.1f} N)"
        )
    i = int(loaded[0])
    cop = frames.cop_mm(fm.foot)[i]
    si = strike_index(cop, np.asarray(fm.heel_mm), np.asarray(fm.toe_mm))
    return Strike(
        si,
        strike_class(si),
        strike_group(si),
        float(frames.time[i]),
        (float(cop[0]), float(cop[1])),
    )
