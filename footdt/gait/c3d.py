"""Markers and force platforms of a motion-capture C3D file, read with ezc3d.

``read_c3d_trial(path)`` gives the marker trajectories (m, the file's lab frame, NaN where the
file marks a point invalid) and each force platform's force (N) and centre of pressure (m), both
in the lab frame as ezc3d computes them from the FORCE_PLATFORM parameters (its
``extract_forceplat_data``: calibration matrix, platform origin and corners applied). Marker and
analog samples start together (C3D frames); the analog rate is usually a multiple of the marker
rate. Nothing is resampled or rotated here: callers map the lab axes to footdt's world frame
(x forward, y left, z up), e.g. ``rbds.py`` for the RBDS lab (X forward, Y up, Z right).

ezc3d is an optional dependency (``pip install ezc3d``); without it the reader says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from footdt.gait.recording import GaitDataError

_TO_M = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}


@dataclass(frozen=True)
class C3DTrial:
    """One C3D file: markers (name -> (T, 3) m) at ``marker_rate_hz``; per force platform the
    force ``(N, 3)`` in N and centre of pressure ``(N, 3)`` in m at ``analog_rate_hz``; all in
    the file's lab frame."""

    source: str
    marker_rate_hz: float
    markers: dict[str, np.ndarray]
    analog_rate_hz: float
    forces_n: tuple[np.ndarray, ...] = ()
    cops_m: tuple[np.ndarray, ...] = ()
    units: dict[str, str] = field(default_factory=dict)


def read_c3d_trial(path: str | Path) -> C3DTrial:
    """Read markers and force platforms (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise GaitDataError(f"{path}: C3D file not found")
    try:
        import ezc3d
    except ImportError as e:  # pragma: no cover - ezc3d is a declared dependency
        raise GaitDataError(
            f"{path}: reading C3D needs ezc3d: pip install ezc3d "
            "(or conda install -c conda-forge ezc3d)"
        ) from e
    try:
        c3d = ezc3d.c3d(str(path), extract_forceplat_data=True)
    except Exception as e:  # ezc3d raises plain RuntimeError/ValueError on bad files
        raise GaitDataError(f"{path}: not a readable C3D file ({e})") from e
    par = c3d["parameters"]
    point = par["POINT"]
    unit = str(point["UNITS"]["value"][0]).strip().lower() if "UNITS" in point else "mm"
    if unit not in _TO_M:
        raise GaitDataError(f"{path}: POINT:UNITS {unit!r} is not mm, cm or m")
    pts = np.asarray(c3d["data"]["points"], float)  # (4, n_markers, T): x, y, z, 1
    xyz = pts[:3] * _TO_M[unit]
    meta = c3d["data"].get("meta_points", {})
    residual = np.asarray(meta["residuals"], float)[0] if "residuals" in meta else None
    labels = [str(s).strip() for s in point["LABELS"]["value"]]
    markers = {}
    for i, name in enumerate(labels[: xyz.shape[1]]):
        m = xyz[:, i, :].T.copy()
        if residual is not None and residual.shape == pts.shape[1:]:
            m[residual[i] < 0] = np.nan  # C3D: a negative residual marks an invalid point
        m[np.all(m == 0.0, axis=1)] = np.nan  # an exact zero point is C3D's "no data"
        markers[name] = m
    forces, cops = [], []
    for plat in c3d["data"].get("platform", []):
        f = np.asarray(plat["force"], float).T
        unit_f = str(plat.get("unit_force", "N")).strip()
        if unit_f != "N":
            raise GaitDataError(f"{path}: force platform unit {unit_f!r} is not N")
        unit_p = str(plat.get("unit_position", "mm")).strip().lower()
        forces.append(f)
        cops.append(np.asarray(plat["center_of_pressure"], float).T * _TO_M.get(unit_p, 1e-3))
    return C3DTrial(
        source=path.name,
        marker_rate_hz=float(point["RATE"]["value"][0]),
        markers=markers,
        analog_rate_hz=float(par["ANALOG"]["RATE"]["value"][0]) if "ANALOG" in par else 0.0,
        forces_n=tuple(forces),
        cops_m=tuple(cops),
        units={"points": unit},
    )
