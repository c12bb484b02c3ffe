"""The RBDS check on real running data (skips when ../shared/data is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from footdt.gait.checks import analyse
from footdt.gait.rbds import rbds_check, rbds_recording
from footdt.gait.recording import GaitDataError, Recording
from tests.conftest import SHARED_DATA

RBDS = SHARED_DATA / "rbds_running_001"
pytestmark = pytest.mark.skipif(not RBDS.is_dir(), reason=f"RBDS data not found at {RBDS}")


@pytest.fixture(scope="module")
def result() -> dict:
    return rbds_check(RBDS)


def test_ic_within_20_ms_median_and_no_missed_strides(result: dict) -> None:
    pooled = result["pooled_foot_tibia"]["ic"]
    assert pooled["median_abs_error_ms"] <= 20.0
    assert pooled["n_missed"] == 0 and pooled["n_false"] == 0
    assert pooled["n_reference"] >= 70  # 30 s of treadmill running: ~38 contacts per leg
    for leg in result["legs"].values():
        assert leg["foot+tibia"]["ic"]["n_missed"] == 0
        assert leg["issues"] == []  # gravity, axes and side checks pass on real (virtual) sensors
    assert result["pass"] is True


def test_toe_off_and_stance_are_close(result: dict) -> None:
    to = result["pooled_foot_tibia"]["to"]
    assert to["n_missed"] == 0 and to["median_abs_error_ms"] <= 30.0
    for leg in result["legs"].values():
        assert leg["foot+tibia"]["stance_s_median"] == pytest.approx(
            leg["force_stance_s_median"], abs=0.03
        )


def test_virtual_sensor_magnitudes_match_reference(result: dict) -> None:
    # REFERENCE.md: marker-derived (15 Hz) distal-shank |a| p99 ~4.9 g, heel ~6.4 g at 2.5 m/s
    for leg in result["legs"].values():
        assert 3.5 <= leg["virtual_p99_g"]["tibia"] <= 5.5
        assert 5.0 <= leg["virtual_p99_g"]["foot"] <= 7.0


def test_swapped_rbds_axes_are_caught() -> None:
    rec = rbds_recording(RBDS, "right")
    swapped = Recording(
        rec.time, rec.rate_hz, {s: a[:, [2, 1, 0]] for s, a in rec.acc.items()}, source="rbds"
    )
    with pytest.raises(GaitDataError, match="foot: gravity at mid-stance reads along \\+x"):
        analyse(swapped)
    mirrored_wrongly = Recording(
        rec.time, rec.rate_hz, {s: a * np.array([1, -1, 1]) for s, a in rec.acc.items()}
    )
    _, issues = analyse(mirrored_wrongly)
    assert [i.code for i in issues] == ["side_mismatch"]
