"""Strike index and plantar pressure: classification, plate frames, region masks, CSV exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from footdt.gait.pressure import (
    REGIONS,
    PressureFrames,
    footprint_masks,
    read_frames_npz,
    read_regional_csv,
)
from footdt.gait.recording import GaitDataError
from footdt.gait.strike import strike_class, strike_from_frames, strike_group, strike_index

CELL = (5.0, 5.0)  # mm along rows (direction of travel) and columns


@pytest.mark.parametrize(
    ("si", "cls", "group"),
    [(0.0, "rearfoot", "rearfoot"), (0.2, "rearfoot", "rearfoot"), (1 / 3, "rearfoot", "rearfoot"),
     (0.34, "midfoot", "non_rearfoot"), (0.5, "midfoot", "non_rearfoot"), (2 / 3, "midfoot", "non_rearfoot"),
     (0.68, "forefoot", "non_rearfoot"), (0.9, "forefoot", "non_rearfoot")],
)  # fmt: skip
def test_classes_follow_the_paper_bounds(si: float, cls: str, group: str) -> None:
    assert strike_class(si) == cls and strike_group(si) == group


def test_strike_index_projects_on_the_foot_axis() -> None:
    heel, toe = np.array([10.0, 0.0]), np.array([10.0, 250.0])  # foot along +col
    assert strike_index(np.array([14.0, 50.0]), heel, toe) == pytest.approx(
        0.2
    )  # lateral offset ignored
    assert strike_index(np.array([10.0, 200.0]), heel, toe) == pytest.approx(0.8)
    with pytest.raises(GaitDataError, match="undefined"):
        strike_index(np.array([np.nan, 1.0]), heel, toe)


def plate(first_row: int, n: int = 60) -> np.ndarray:
    """A right footprint from row 10 (heel) to row 59 (toes), columns 8-19; loading starts at
    ``first_row`` and spreads over the whole foot; pressures in kPa."""
    frames = np.zeros((n, 64, 32))
    rows = np.arange(64)[:, None]
    foot = (
        (rows >= 10) & (rows < 60) & (np.arange(32)[None, :] >= 8) & (np.arange(32)[None, :] < 20)
    )
    for k in range(1, n):
        reach = np.abs(rows - first_row) <= 2 + k  # loaded band grows around first contact
        frames[k] = np.where(foot & reach, 200.0 * np.sin(np.pi * k / n), 0.0)
    return frames


def test_footprint_masks_split_by_foot_length() -> None:
    fm = footprint_masks(plate(14) * 1e-3, CELL, "right", travel=(1.0, 0.0))
    assert fm.length_mm == pytest.approx(250.0) and fm.heel_mm[0] == pytest.approx(50.0)
    rows = {r: np.flatnonzero(m.any(axis=1)) for r, m in fm.regions.items()}
    assert rows["rearfoot"].min() == 10 and rows["rearfoot"].max() == 24  # 0-30 % of 50 rows
    assert rows["toes"].max() == 59 and rows["midfoot"].min() == 25
    assert np.array_equal(fm.foot, sum(fm.regions.values()) > 0)


@pytest.mark.parametrize(
    ("first_row", "expected"), [(14, "rearfoot"), (33, "midfoot"), (52, "forefoot")]
)
def test_strike_from_plate_frames(tmp_path: Path, first_row: int, expected: str) -> None:
    frames_kpa = plate(first_row)
    fm = footprint_masks(frames_kpa * 1e-3, CELL, "right")
    arrays = {f"right_{r}": m for r, m in fm.regions.items()}
    p = tmp_path / "plate.npz"
    np.savez(p, frames=frames_kpa, rate_hz=350.0, cell_mm=np.array(CELL), units="kPa",
             right_heel_mm=np.array(fm.heel_mm), right_toe_mm=np.array(fm.toe_mm), **arrays)  # fmt: skip
    pf = read_frames_npz(p)
    assert pf.frames.max() == pytest.approx(0.2, rel=1e-3)  # kPa -> MPa
    s = strike_from_frames(pf, "right")
    assert s.strike_class == expected
    assert s.index == pytest.approx((first_row + 0.5 - 10) / 50, abs=0.02)
    assert s.ic_s == pytest.approx(1 / 350)
    reg = pf.regional("right")
    assert set(reg.pressure) == set(REGIONS) and reg.cop_mm is not None
    with pytest.raises(GaitDataError, match="no left foot mask"):
        pf.regional("left")


def test_force_and_cop_of_frames() -> None:
    frames = np.zeros((2, 4, 4))
    frames[1, 1, 1] = 0.1  # MPa on a 5 x 5 mm cell: 2.5 N
    frames[1, 3, 1] = 0.3
    pf = PressureFrames(frames, 100.0, CELL)
    np.testing.assert_allclose(pf.force_n(), [0.0, 10.0])
    np.testing.assert_allclose(pf.cop_mm()[1], [(7.5 * 0.1 + 17.5 * 0.3) / 0.4, 7.5])
    assert np.isnan(pf.cop_mm()[0]).all()


def test_regional_csv_in_kpa(tmp_path: Path) -> None:
    p = tmp_path / "regions.csv"
    t = np.arange(0, 0.3, 1 / 350)
    lines = ["time,heel_kpa,mid_kpa,fore_kpa,toe_kpa"] + [
        f"{x:.6f},{300 * np.sin(np.pi * x / 0.3):.4f},50,{200 * x / 0.3:.4f},20" for x in t
    ]
    p.write_text("\n".join(lines) + "\n")
    cols = {"rearfoot": "heel_kpa", "midfoot": "mid_kpa", "forefoot": "fore_kpa", "toes": "toe_kpa"}
    rp = read_regional_csv(p, cols, units="kPa")
    assert rp.rate_hz == pytest.approx(350.0, rel=1e-3)  # time written to 1 us
    means = rp.phase_means({"mid_stance": (0.1, 0.2)})
    assert means["mid_stance"]["midfoot"] == pytest.approx(0.05)
    assert means["mid_stance"]["toes"] == pytest.approx(0.02)
    with pytest.raises(GaitDataError, match="unknown region\\(s\\) heel"):
        read_regional_csv(p, {"heel": "heel_kpa"})
    with pytest.raises(GaitDataError, match="unknown pressure units 'psi'"):
        read_regional_csv(p, cols, units="psi")
