"""Gait: IMU and plantar-pressure ingestion, gait events, stance phases, windows, strike index.

Public entry points (each module's docstring states its units and rules):

- ``io.read_recording`` / ``read_imu_table`` / ``read_imu_c3d`` -> ``Recording`` (m/s^2, s,
  right-foot segment frames; left legs mirrored y -> -y);
- ``events.detect_events`` -> ``GaitEvents`` (IC/TO per stride, s);
- ``checks.run_checks`` -> flagged events and ``Issue`` list (bad rate, units, axes, side...);
- ``phases.make_windows`` -> ``Windows`` (n_strides, 300, 6): foot ax, ay, az, tibia ax, ay, az;
- ``pressure`` (regional series, plate frames, region masks) and ``strike`` (strike index);
- ``virtual`` (marker-cluster virtual accelerometers), ``c3d`` (markers and force platforms of a
  C3D file), ``rbds`` (the RBDS001 trials) and ``validate`` (force-plate contacts, feet on a
  shared plate, event matching and the leave-one-recording-out protocol).
"""

from footdt.domain import CHANNELS, SENSORS
from footdt.gait.recording import GaitDataError, Issue, NoStridesError, Recording

__all__ = ["CHANNELS", "SENSORS", "GaitDataError", "Issue", "NoStridesError", "Recording"]
