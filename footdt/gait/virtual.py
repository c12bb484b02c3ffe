"""Virtual accelerometers from marker clusters: what a sensor fixed to a segment would read.

For a cluster of >= 3 markers on one segment (positions in m, world frame with z up):

1. low-pass every marker trajectory (zero-phase Butterworth, ``cutoff_hz``, 4th order);
2. fit the cluster's reference shape (from a static trial) to every frame as a rigid body
   (least-squares rotation by SVD, Soderkvist & Wedin 1993) -> rotation ``R(t)``, translation;
3. the sensor point ``p`` (reference frame) moves as ``R(t) p + o(t)``; its acceleration is the
   second central difference of that path;
4. an accelerometer measures specific force: acceleration minus gravity, i.e. ``a + g_up``
   (9.80665 m/s^2 along +z world), expressed in the sensor's axes, which are the segment's
   axes (columns of ``axes``, reference frame) carried along by ``R(t)``.

Marker-derived accelerations lack the high-frequency impact transient of a skin-mounted IMU
(the low-pass removes it): they are smooth but have the right timing and gravity.
"""

from __future__ import annotations

import numpy as np

from footdt.gait.recording import G, GaitDataError


def lowpass(x: np.ndarray, rate_hz: float, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth low-pass along axis 0."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(order, cutoff_hz, fs=rate_hz, output="sos")
    return sosfiltfilt(sos, x, axis=0)


def rigid_fit(ref: np.ndarray, traj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotations ``(T, 3, 3)`` and translations ``(T, 3)`` with ``traj[t] ~ R[t] @ ref + o[t]``.

    ``ref`` is ``(k, 3)``, ``traj`` ``(T, k, 3)``, k >= 3 non-collinear markers."""
    if ref.shape[0] < 3 or traj.shape[1:] != ref.shape:
        raise GaitDataError(
            f"rigid fit needs >= 3 markers with matching shapes, got {ref.shape}, {traj.shape}"
        )
    rc = ref.mean(axis=0)
    tc = traj.mean(axis=1)
    h = np.einsum("ki,tkj->tij", ref - rc, traj - tc[:, None, :])
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.einsum("tji,tkj->tik", vt, u)))
    fix = np.ones((len(traj), 3))
    fix[:, 2] = d
    rot = np.einsum("tji,tj,tkj->tik", vt, fix, u)
    return rot, tc - np.einsum("tij,j->ti", rot, rc)


def virtual_accelerometer(
    traj: np.ndarray,
    ref: np.ndarray,
    point: np.ndarray,
    axes: np.ndarray,
    rate_hz: float,
    cutoff_hz: float = 15.0,
    names: tuple[str, ...] = (),
) -> np.ndarray:
    """Specific force ``(T, 3)`` in m/s^2 in the sensor axes (see the module docstring).

    ``traj`` (T, k, 3) and ``ref`` (k, 3) in m; ``point`` (3,) and ``axes`` (3, 3, columns x, y,
    z of the segment) in the reference frame; ``names`` label markers in error messages."""
    bad = ~np.isfinite(traj)
    if bad.any():
        t, k, _ = np.argwhere(bad)[0]
        name = names[k] if k < len(names) else f"marker {k}"
        raise GaitDataError(
            f"{name} is missing at frame {t} (t={t / rate_hz:.3f} s): fill marker gaps first"
        )
    smooth = lowpass(traj, rate_hz, cutoff_hz)
    rot, origin = rigid_fit(ref, smooth)
    pos = np.einsum("tij,j->ti", rot, point) + origin
    dt = 1.0 / rate_hz
    acc = np.gradient(np.gradient(pos, dt, axis=0), dt, axis=0)
    spec = acc + np.array([0.0, 0.0, G])
    seg = np.einsum("tij,jk->tik", rot, axes)  # world components of the segment axes
    return np.einsum("tik,ti->tk", seg, spec)


def segment_axes(x_hint: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Right-handed axes (columns x, y, z): z normalised, x = ``x_hint`` made orthogonal to z."""
    zz = z / np.linalg.norm(z)
    xx = x_hint - zz * (x_hint @ zz)
    xx = xx / np.linalg.norm(xx)
    return np.stack([xx, np.cross(zz, xx), zz], axis=1)
