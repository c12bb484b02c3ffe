"""The Running Biomechanics Data Set (Fukuchi, Fukuchi & Duarte 2017, PeerJ 5:e3298; CC BY 4.0).

Reads one runner's treadmill trial (``RBDS<id>runT<speed>markers.txt``: 150 Hz marker XYZ in mm,
lab frame X forward, Y up, Z to the right; ``...forces.txt``: 300 Hz treadmill force, Fy up, N) and
the static trial, and builds footdt recordings from them. Data is never shipped with footdt.

Virtual sensors (``virtual.py``) per leg, segment axes from the static trial:

- ``tibia``: shank cluster (Shank.Top/Bottom.Lateral/Medial); z from the ankle-malleoli centre to
  the knee-epicondyle centre, x forward; the sensor point 8 cm up the shank axis from the ankle
  centre (distal tibia).
- ``foot``: heel cluster (Heel.Top/Bottom/Lateral); x from Heel.Bottom to MT2 made horizontal, z
  up; the sensor point 4 cm above the midpoint of Heel.Bottom and MT2 (foot dorsum), carried by the
  heel cluster (shoe rearfoot taken as rigid). The running trial's MT1/MT5 markers are not used:
  their labels are swapped relative to the static trial (MT1 lies lateral).

The left leg is built in its own segment frame (y lateral) and mirrored (y -> -y), as ``io`` does
for a left-leg recording. Treadmill contacts: one force plate under both feet; running has a
flight phase between steps, so every contact is one foot, attributed to the leg whose heel
marker is lower at mid-contact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from footdt.gait.recording import GaitDataError, Recording, Side
from footdt.gait.validate import Match, contacts_from_force
from footdt.gait.virtual import segment_axes, virtual_accelerometer

MARKER_RATE_HZ = 150.0
FORCE_RATE_HZ = 300.0


def _files(data_dir: Path, runner: str, speed: str) -> dict[str, Path]:
    files = {
        "markers": data_dir / f"RBDS{runner}runT{speed}markers.txt",
        "forces": data_dir / f"RBDS{runner}runT{speed}forces.txt",
        "static": data_dir / f"RBDS{runner}static.txt",
    }
    for p in files.values():
        if not p.is_file():
            raise GaitDataError(f"{p}: RBDS file not found")
    return files


def _markers(path: Path) -> dict[str, np.ndarray]:
    """Marker name -> (T, 3) in m, footdt world frame (x forward, y left, z up)."""
    import pandas as pd

    df = pd.read_csv(path, sep="\t")
    names = sorted({c[:-1] for c in df.columns if c[-1:] in "XYZ" and c != "Time"})
    out = {}
    for n in names:
        if all(f"{n}{a}" in df.columns for a in "XYZ"):
            lab = df[[f"{n}X", f"{n}Y", f"{n}Z"]].to_numpy(float) / 1000.0
            out[n] = np.stack([lab[:, 0], -lab[:, 2], lab[:, 1]], axis=1)
    return out


def rbds_recording(
    data_dir: str | Path,
    side: Side = "right",
    runner: str = "001",
    speed: str = "25",
    target_rate_hz: float | None = 100.0,
    cutoff_hz: float = 15.0,
) -> Recording:
    """Virtual foot and tibia accelerometers of one leg (m/s^2, mirrored when left)."""
    from footdt.gait.io import resample

    files = _files(Path(data_dir), runner, speed)
    run, static = _markers(files["markers"]), _markers(files["static"])
    p = "R" if side == "right" else "L"

    def st(name: str) -> np.ndarray:
        return static[f"{p}.{name}"].mean(axis=0)

    ankle = 0.5 * (st("Ankle") + st("Ankle.Medial"))
    knee = 0.5 * (st("Knee") + st("Knee.Medial"))
    heel, mt2 = st("Heel.Bottom"), st("MT2")
    up, fwd = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
    tib_axes = segment_axes(fwd, knee - ankle)
    sensors = {
        "tibia": ([f"{p}.Shank.{a}.{b}" for a in ("Top", "Bottom") for b in ("Lateral", "Medial")],
                  ankle + 0.08 * tib_axes[:, 2], tib_axes),
        "foot": ([f"{p}.Heel.Top", f"{p}.Heel.Bottom", f"{p}.Heel.Lateral"],
                 0.5 * (heel + mt2) + 0.04 * up, segment_axes(mt2 - heel, up)),
    }  # fmt: skip
    acc = {}
    for name, (cluster, point, axes) in sensors.items():
        ref = np.stack([static[m].mean(axis=0) for m in cluster])
        traj = np.stack([run[m] for m in cluster], axis=1)
        a = virtual_accelerometer(traj, ref, point, axes, MARKER_RATE_HZ, cutoff_hz, tuple(cluster))
        if side == "left":
            a[:, 1] *= -1.0
        acc[name] = a
    n = len(next(iter(acc.values())))
    rec = Recording(
        time=np.arange(n) / MARKER_RATE_HZ, rate_hz=MARKER_RATE_HZ, acc=acc, side=side,
        source=f"{files['markers'].name} ({side} leg, virtual sensors)",
        columns={s: tuple(f"{s}_a{a}" for a in "xyz") for s in acc},  # type: ignore[misc]
        mirrored=side == "left",
    )  # fmt: skip
    return resample(rec, target_rate_hz) if target_rate_hz else rec


def rbds_contacts(
    data_dir: str | Path, runner: str = "001", speed: str = "25", threshold_n: float = 20.0
) -> dict[str, np.ndarray]:
    """Force-plate contacts ``{side: (n, 2) [IC, TO] in s}`` (complete contacts only)."""
    import pandas as pd

    files = _files(Path(data_dir), runner, speed)
    fy = pd.read_csv(files["forces"], sep="\t")["Fy"].to_numpy(float)
    contacts = contacts_from_force(fy, FORCE_RATE_HZ, threshold_n)
    markers = _markers(files["markers"])
    h_r, h_l = markers["R.Heel.Bottom"][:, 2], markers["L.Heel.Bottom"][:, 2]
    mid = np.clip(np.rint(contacts.mean(axis=1) * MARKER_RATE_HZ).astype(int), 0, len(h_r) - 1)
    right = h_r[mid] < h_l[mid]
    return {"right": contacts[right], "left": contacts[~right]}


SENSOR_SETS: dict[str, tuple[str, ...] | None] = {
    "foot+tibia": None,
    "foot": ("foot",),
    "tibia": ("tibia",),
}


def rbds_check(
    data_dir: str | Path,
    threshold_n: float = 20.0,
    rate_hz: float = 100.0,
    cutoff_hz: float = 15.0,
    tolerance_s: float = 0.1,
) -> dict[str, Any]:
    """Detect IC/TO on both legs' virtual sensors and compare with force-plate contacts.

    Per leg and sensor set: IC and TO error summaries (``validate.Match.summary``, ms), stance
    medians (s), the virtual sensors' p99 |a| (g) and the checks' issue codes; ``pooled`` holds
    the foot+tibia errors of both legs together. Detections more than half a stride outside the
    span of complete force-plate contacts are not scored (no reference there)."""
    from footdt.gait.checks import run_checks
    from footdt.gait.events import detect_events
    from footdt.gait.recording import G
    from footdt.gait.validate import match_events

    contacts = rbds_contacts(data_dir, threshold_n=threshold_n)
    legs: dict[str, Any] = {}
    pooled: dict[str, list[Match]] = {"ic": [], "to": []}
    for side in ("right", "left"):
        rec = rbds_recording(data_dir, side, target_rate_hz=rate_hz, cutoff_hz=cutoff_hz)
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
            half = 0.5 * ev.stride_period_s
            ic = np.array([s.ic_s for s in ev.strides])
            to = np.array([s.to_s for s in ev.strides])
            m_ic = match_events(ic, ref[:, 0], tolerance_s, (ref[0, 0] - half, ref[-1, 0] + half))
            m_to = match_events(to, ref[:, 1], tolerance_s, (ref[0, 1] - half, ref[-1, 1] + half))
            leg[label] = {
                "n_detected": len(ev.strides),
                "stride_period_s": ev.stride_period_s,
                "stance_s_median": float(np.median(to - ic)),
                "ic": m_ic.summary(),
                "to": m_to.summary(),
            }
            if sensors is None:
                pooled["ic"].append(m_ic)
                pooled["to"].append(m_to)
                _, issues = run_checks(rec, ev, strict=False)
                leg["issues"] = sorted({i.code for i in issues})
        legs[side] = leg
    pool = {
        k: Match(
            np.concatenate([m.errors_s for m in v]),
            np.concatenate([m.missed_s for m in v]),
            np.concatenate([m.false_s for m in v]),
        ).summary()
        for k, v in pooled.items()
    }
    ok = pool["ic"]["n_missed"] == 0 and (pool["ic"]["median_abs_error_ms"] or 1e9) <= 20.0
    return {
        "settings": {"force_threshold_n": threshold_n, "rate_hz": rate_hz, "cutoff_hz": cutoff_hz,
                     "tolerance_s": tolerance_s},
        "legs": legs,
        "pooled_foot_tibia": pool,
        "target": "IC median |error| <= 20 ms and no missed strides",
        "pass": bool(ok),
    }  # fmt: skip
