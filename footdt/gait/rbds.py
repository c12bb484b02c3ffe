"""The Running Biomechanics Data Set (Fukuchi, Fukuchi & Duarte 2017, PeerJ 5:e3298; CC BY 4.0).

Reads one runner's treadmill trials and builds footdt recordings and force-plate contacts from
them. A trial is either text (``RBDS<id>runT<speed>markers.txt``: marker XYZ in mm at 150 Hz;
``...forces.txt``: treadmill force at 300 Hz, Fy up, N) or one C3D file (``RBDS<id>runT<speed>.c3d``:
the same markers and the treadmill platform's channels, read with ``c3d.read_c3d_trial``); both
use the lab frame X forward, Y up, Z to the right, and the runner's static trial
(``RBDS<id>static.txt``) for the segment axes. Data is never shipped with footdt.

Virtual sensors (``virtual.py``) per leg, segment axes from the static trial:

- ``tibia``: shank cluster (Shank.Top/Bottom.Lateral/Medial); z from the ankle-malleoli centre to
  the knee-epicondyle centre, x forward.
- ``foot``: heel cluster (Heel.Top/Bottom/Lateral); x from Heel.Bottom to MT2 made horizontal, z
  up; the point is carried by the heel cluster (shoe rearfoot taken as rigid). The running
  trials' MT1/MT5 markers are not used for the sensor (in the text trial their labels are
  swapped relative to the static trial: MT1 lies lateral).

Where the sensor sits (``placement``): ``"footdt"`` (default) the distal tibia 8 cm up the shank
axis from the malleoli centre and the foot dorsum 4 cm above the Heel.Bottom-MT2 midpoint;
``"centroid"`` each cluster's centroid (mid-shank, heel counter); ``"distal"`` the malleoli
centre and MT2.

The left leg is built in its own segment frame (y lateral) and mirrored (y -> -y), as ``io`` does
for a left-leg recording. Treadmill contacts: one force plate under both feet
(``validate.force_contacts``: baseline, body weight and thresholds from the force itself), each
contact assigned to a foot by alternation, its phase voted by which foot's lowest marker (heel,
and MT1/MT5 when the trial has them) is lower at mid-contact (``validate.assign_feet``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from footdt.domain import FOOT_SENSOR, TIBIA_SENSOR
from footdt.gait.recording import GaitDataError, Recording, Side
from footdt.gait.validate import (
    FeetAssignment,
    ForceContacts,
    Labelled,
    Match,
    assign_feet,
    force_contacts,
    pool,
    score,
)
from footdt.gait.virtual import segment_axes, virtual_accelerometer

MARKER_RATE_HZ = 150.0
FORCE_RATE_HZ = 300.0
Placement = Literal["footdt", "centroid", "distal"]
PLACEMENTS: tuple[str, ...] = ("footdt", "centroid", "distal")


@dataclass(frozen=True)
class RbdsTrial:
    """One treadmill trial: markers (name -> (T, 3) m, footdt world frame: x forward, y left,
    z up) at ``marker_rate_hz``, the plate's vertical force (N) and lateral centre of pressure
    (m, world y; NaN when not recorded) at ``force_rate_hz``."""

    name: str
    speed_m_s: float
    markers: dict[str, np.ndarray]
    marker_rate_hz: float
    force_n: np.ndarray
    cop_y_m: np.ndarray
    force_rate_hz: float
    files: tuple[str, ...]


def _lab_to_world(xyz_m: np.ndarray) -> np.ndarray:
    """RBDS lab (X forward, Y up, Z right) -> footdt world (x forward, y left, z up)."""
    return np.stack([xyz_m[..., 0], -xyz_m[..., 2], xyz_m[..., 1]], axis=-1)


@lru_cache(maxsize=8)
def _markers(path: Path | str) -> dict[str, np.ndarray]:
    """Marker name -> (T, 3) in m, footdt world frame, from an RBDS text file (mm)."""
    import pandas as pd

    df = pd.read_csv(path, sep="\t")
    names = sorted({c[:-1] for c in df.columns if c[-1:] in "XYZ" and c != "Time"})
    return {
        n: _lab_to_world(df[[f"{n}X", f"{n}Y", f"{n}Z"]].to_numpy(float) / 1000.0)
        for n in names
        if all(f"{n}{a}" in df.columns for a in "XYZ")
    }


def available_speeds(data_dir: str | Path, runner: str = "001") -> list[str]:
    """Speed codes (e.g. ``"25"``, ``"35"``) of the runner's trials in ``data_dir`` that have
    both markers and forces (text pair or C3D) and a static trial."""
    d = Path(data_dir)
    if not (d / f"RBDS{runner}static.txt").is_file():
        return []
    speeds = set()
    for p in d.glob(f"RBDS{runner}runT*"):
        m = re.fullmatch(rf"RBDS{runner}runT(\d+)(markers\.txt|\.c3d)", p.name)
        if m and (
            m.group(2) == ".c3d" or (d / f"RBDS{runner}runT{m.group(1)}forces.txt").is_file()
        ):
            speeds.add(m.group(1))
    return sorted(speeds)


@lru_cache(maxsize=8)
def _load_trial(data_dir: str, runner: str, speed: str) -> RbdsTrial:
    d = Path(data_dir)
    stem = f"RBDS{runner}runT{speed}"
    text = (d / f"{stem}markers.txt", d / f"{stem}forces.txt")
    c3d = d / f"{stem}.c3d"
    if text[0].is_file() and text[1].is_file():
        import pandas as pd

        forces = pd.read_csv(text[1], sep="\t")
        cop_y = (
            -forces["COPz"].to_numpy(float) / 1000.0
            if "COPz" in forces
            else np.full(len(forces), np.nan)
        )
        return RbdsTrial(stem, int(speed) / 10.0, _markers(text[0]), MARKER_RATE_HZ,
                         forces["Fy"].to_numpy(float), cop_y, FORCE_RATE_HZ,
                         (text[0].name, text[1].name))  # fmt: skip
    if c3d.is_file():
        from footdt.gait.c3d import read_c3d_trial

        trial = read_c3d_trial(c3d)
        if not trial.forces_n:
            raise GaitDataError(f"{c3d}: no force platform in the file")
        markers = {k: _lab_to_world(v) for k, v in trial.markers.items()}
        force = trial.forces_n[0][:, 1]  # lab Y is up
        cop_y = -trial.cops_m[0][:, 2]
        return RbdsTrial(stem, int(speed) / 10.0, markers, trial.marker_rate_hz, force, cop_y,
                         trial.analog_rate_hz, (c3d.name,))  # fmt: skip
    raise GaitDataError(
        f"{d}: no RBDS trial {stem} (neither {text[0].name} + {text[1].name} nor {c3d.name})"
    )


def rbds_trial(data_dir: str | Path, runner: str = "001", speed: str = "25") -> RbdsTrial:
    """Load (and cache) one trial (see ``RbdsTrial``)."""
    static = Path(data_dir) / f"RBDS{runner}static.txt"
    if not static.is_file():
        raise GaitDataError(f"{static}: RBDS file not found")
    return _load_trial(str(Path(data_dir).resolve()), runner, speed)


def rbds_recording(
    data_dir: str | Path,
    side: Side = "right",
    runner: str = "001",
    speed: str = "25",
    target_rate_hz: float | None = 100.0,
    cutoff_hz: float = 15.0,
    placement: Placement = "footdt",
) -> Recording:
    """Virtual foot and tibia accelerometers of one leg (m/s^2, mirrored when left).
    ``target_rate_hz=None`` keeps the marker rate (150 Hz)."""
    from footdt.gait.io import resample

    if placement not in PLACEMENTS:
        raise GaitDataError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
    trial = rbds_trial(data_dir, runner, speed)
    static = _markers(Path(data_dir) / f"RBDS{runner}static.txt")
    run = trial.markers
    p = "R" if side == "right" else "L"

    def st(name: str) -> np.ndarray:
        return static[f"{p}.{name}"].mean(axis=0)

    ankle = 0.5 * (st("Ankle") + st("Ankle.Medial"))
    knee = 0.5 * (st("Knee") + st("Knee.Medial"))
    heel, mt2 = st("Heel.Bottom"), st("MT2")
    up, fwd = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
    tib_axes = segment_axes(fwd, knee - ankle)
    clusters = {
        TIBIA_SENSOR: [
            f"{p}.Shank.{a}.{b}" for a in ("Top", "Bottom") for b in ("Lateral", "Medial")
        ],
        FOOT_SENSOR: [f"{p}.Heel.Top", f"{p}.Heel.Bottom", f"{p}.Heel.Lateral"],
    }
    axes = {TIBIA_SENSOR: tib_axes, FOOT_SENSOR: segment_axes(mt2 - heel, up)}
    points = {
        "footdt": {
            TIBIA_SENSOR: ankle + 0.08 * tib_axes[:, 2],
            FOOT_SENSOR: 0.5 * (heel + mt2) + 0.04 * up,
        },
        "distal": {TIBIA_SENSOR: ankle, FOOT_SENSOR: mt2},
    }
    acc = {}
    for name, cluster in clusters.items():
        missing = [m for m in cluster if m not in run or m not in static]
        if missing:
            raise GaitDataError(f"{trial.name}: marker(s) {', '.join(missing)} not found")
        ref = np.stack([static[m].mean(axis=0) for m in cluster])
        point = ref.mean(axis=0) if placement == "centroid" else points[placement][name]
        traj = np.stack([run[m] for m in cluster], axis=1)
        a = virtual_accelerometer(traj, ref, point, axes[name], trial.marker_rate_hz, cutoff_hz,
                                  tuple(cluster))  # fmt: skip
        if side == "left":
            a[:, 1] *= -1.0
        acc[name] = a
    n = len(next(iter(acc.values())))
    rec = Recording(
        time=np.arange(n) / trial.marker_rate_hz, rate_hz=trial.marker_rate_hz, acc=acc, side=side,
        source=f"{trial.name} ({side} leg, virtual sensors)",
        columns={s: tuple(f"{s}_a{a}" for a in "xyz") for s in acc},  # type: ignore[misc]
        mirrored=side == "left",
    )  # fmt: skip
    return resample(rec, target_rate_hz) if target_rate_hz else rec


def foot_height_evidence(trial: RbdsTrial, contacts_s: np.ndarray) -> np.ndarray:
    """Per contact: the left foot's lowest marker height minus the right's at mid-contact (m):
    > 0 when the right foot is the one on the ground."""
    names = ("Heel.Bottom", "Heel.Lateral", "MT1", "MT5")
    low = {}
    for p in "RL":
        h = [trial.markers[f"{p}.{n}"][:, 2] for n in names if f"{p}.{n}" in trial.markers]
        if not h:
            raise GaitDataError(f"{trial.name}: no {p}.Heel.Bottom marker to tell the feet apart")
        low[p] = np.nanmin(np.stack(h), axis=0)
    mid = np.clip(np.rint(contacts_s.mean(axis=1) * trial.marker_rate_hz).astype(int), 0,
                  len(low["R"]) - 1)  # fmt: skip
    return low["L"][mid] - low["R"][mid]


def rbds_force_contacts(
    data_dir: str | Path,
    runner: str = "001",
    speed: str = "25",
    threshold_n: float | None = None,
    body_weight_n: float | None = None,
) -> tuple[ForceContacts, FeetAssignment]:
    """The trial's complete force-plate contacts and which foot each belongs to."""
    trial = rbds_trial(data_dir, runner, speed)
    fc = force_contacts(trial.force_n, trial.force_rate_hz, body_weight_n,
                        on_threshold_n=threshold_n)  # fmt: skip
    feet = assign_feet(fc.contacts_s, foot_height_evidence(trial, fc.contacts_s))
    return fc, feet


def rbds_contacts(
    data_dir: str | Path,
    runner: str = "001",
    speed: str = "25",
    threshold_n: float | None = None,
) -> dict[str, np.ndarray]:
    """Force-plate contacts ``{side: (n, 2) [IC, TO] in s}`` (complete contacts only);
    ``threshold_n`` (N above baseline) replaces the default timing level of 3 % body weight."""
    fc, feet = rbds_force_contacts(data_dir, runner, speed, threshold_n)
    return feet.split(fc.contacts_s)


SENSOR_SETS: dict[str, tuple[str, ...] | None] = {
    "foot+tibia": None,
    FOOT_SENSOR: (FOOT_SENSOR,),
    TIBIA_SENSOR: (TIBIA_SENSOR,),
}


def rbds_labelled(
    data_dir: str | Path,
    runner: str = "001",
    rate_hz: float | None = 100.0,
    cutoff_hz: float = 15.0,
    placement: Placement = "footdt",
    speeds: list[str] | None = None,
) -> list[Labelled]:
    """Every leg of every trial of the runner in ``data_dir`` with its force-plate contacts,
    grouped by trial (for ``validate.leave_one_out``). ``rate_hz=None``: the marker rate."""
    out = []
    for speed in speeds or available_speeds(data_dir, runner):
        contacts = rbds_contacts(data_dir, runner, speed)
        for side in ("right", "left"):
            rec = rbds_recording(data_dir, side, runner, speed, rate_hz, cutoff_hz, placement)
            stem = f"RBDS{runner}runT{speed}"
            out.append(Labelled(f"{stem} {side}", stem, rec, contacts[side]))
    return out


def rbds_check(
    data_dir: str | Path,
    threshold_n: float | None = None,
    rate_hz: float = 100.0,
    cutoff_hz: float = 15.0,
    tolerance_s: float = 0.1,
    speed: str = "25",
    runner: str = "001",
) -> dict[str, Any]:
    """Detect IC/TO on both legs' virtual sensors of one trial with the shipped settings and
    compare with force-plate contacts.

    Per leg and sensor set: IC and TO error summaries (``validate.Match.summary``, ms), stance
    medians (s), the virtual sensors' p99 |a| (g) and the checks' issue codes; ``pooled`` holds
    the foot+tibia errors of both legs together. The shipped IC offset was learned on all RBDS001
    trials, this one included: the held-out numbers are ``validate.leave_one_out``'s."""
    from footdt.gait.checks import run_checks
    from footdt.gait.events import detect_events
    from footdt.gait.recording import G

    fc, feet = rbds_force_contacts(data_dir, runner, speed, threshold_n)
    contacts = feet.split(fc.contacts_s)
    legs: dict[str, Any] = {}
    pooled: dict[str, list[Match]] = {"ic": [], "to": []}
    for side in ("right", "left"):
        rec = rbds_recording(data_dir, side, runner, speed, rate_hz, cutoff_hz)
        ref = contacts[side]
        leg: dict[str, Any] = {
            "n_force_contacts": len(ref),
            "force_stance_s_median": float(np.median(ref[:, 1] - ref[:, 0])),
            "virtual_p99_g": {
                s: float(np.percentile(rec.resultant(s), 99) / G) for s in rec.sensors
            },
        }
        for label, sensors in SENSOR_SETS.items():
            ev = detect_events(rec, sensors)
            m_ic, m_to = score(ev, ref, tolerance_s)
            leg[label] = {
                "n_detected": len(ev.strides),
                "stride_period_s": ev.stride_period_s,
                "stance_s_median": float(np.median([s.stance_s for s in ev.strides])),
                "ic": m_ic.summary(),
                "to": m_to.summary(),
            }
            if sensors is None:
                pooled["ic"].append(m_ic)
                pooled["to"].append(m_to)
                _, issues = run_checks(rec, ev, strict=False)
                leg["issues"] = sorted({i.code for i in issues})
        legs[side] = leg
    pool_ = {k: pool(v).summary() for k, v in pooled.items()}
    ok = pool_["ic"]["n_missed"] == 0 and (pool_["ic"]["median_abs_error_ms"] or 1e9) <= 10.0
    return {
        "settings": {"speed": speed, "force_on_threshold_n": fc.on_threshold_n,
                     "body_weight_n": fc.body_weight_n, "rate_hz": rate_hz,
                     "cutoff_hz": cutoff_hz, "tolerance_s": tolerance_s},
        "force_contacts": fc.summary(),
        "legs": legs,
        "pooled_foot_tibia": pool_,
        "target": "IC median |error| <= 10 ms and no missed strides",
        "pass": bool(ok),
    }  # fmt: skip
