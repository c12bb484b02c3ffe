"""Cross-backend comparison: within tolerance, outside tolerance, per-stat tolerances, missing rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from footdt.labels import LabelRow
from footdt.labels.compare import compare, tolerance_for
from footdt.labels.store import LabelStore


def row(subject: str, bone: str, stat: str, value: float, backend: str) -> LabelRow:
    return LabelRow(
        subject=subject,
        trial="1",
        phase="mid_stance",
        bone=bone,
        stat=stat,
        value_mpa=value,
        backend=backend,
        backend_version="1",
        spec_hash="sp",
        mesh_hash="me",
        model_hash="mo",
        solve_id=f"{backend}-{subject}",
        wall_time_s=1.0,
        residual=None,
        max_on_boundary=False,
        created_at="2025-01-01T00:00:00+00:00",
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LabelStore]:
    st = LabelStore(tmp_path / "c.db")
    ref = [
        row("s1", "talus", "mean", 10.0, "calculix"),
        row("s1", "talus", "p99", 40.0, "calculix"),
    ]
    # sfepy: mean off by 0.4 % (10.04 vs 10), p99 off by 1.5 % (40.6 vs 40)
    new = [row("s1", "talus", "mean", 10.04, "sfepy"), row("s1", "talus", "p99", 40.6, "sfepy")]
    st.put(ref)
    st.put(new)
    yield st
    st.close()


def test_within_tolerance(store: LabelStore) -> None:
    cmp = compare(store, "sfepy", "calculix", rtol=0.02)
    assert cmp.ok and len(cmp.rows) == 2 and not cmp.failures
    by_stat = {r.stat: r for r in cmp.rows}
    assert by_stat["mean"].rel_diff == pytest.approx(0.004)
    assert by_stat["p99"].rel_diff == pytest.approx(0.015)
    assert (by_stat["p99"].a, by_stat["p99"].b) == (40.6, 40.0)
    assert cmp.missing_in_a == [] and cmp.missing_in_b == []


def test_outside_tolerance_and_per_stat_rtol(store: LabelStore) -> None:
    cmp = compare(store, "sfepy", "calculix", rtol=0.01)
    assert not cmp.ok
    assert [(r.stat, r.ok) for r in cmp.rows] == [("mean", True), ("p99", False)]
    cmp = compare(store, "sfepy", "calculix", rtol={"p99": 0.02, "default": 0.005})
    assert cmp.ok and {r.stat: r.tol for r in cmp.rows} == {"mean": 0.005, "p99": 0.02}
    cmp = compare(store, "sfepy", "calculix", rtol={"mean": 0.003, "default": 0.05})
    assert not cmp.ok and [r.stat for r in cmp.failures] == ["mean"]


def test_missing_rows_are_listed(store: LabelStore) -> None:
    store.put([row("s2", "talus", "mean", 5.0, "calculix")])
    store.put([row("s3", "calcaneus", "mean", 5.0, "sfepy")])
    cmp = compare(store, "sfepy", "calculix", rtol=0.02)
    assert cmp.missing_in_a == [
        {"subject": "s2", "trial": "1", "phase": "mid_stance", "bone": "talus", "stat": "mean"}
    ]
    assert [m["subject"] for m in cmp.missing_in_b] == ["s3"]
    assert cmp.ok  # missing rows are reported, not failures; what was compared agrees
    assert (
        compare(store, "sfepy", "calculix", rtol=0.02, subject="s2").ok is False
    )  # nothing compared


def test_nothing_compared_is_not_ok(store: LabelStore) -> None:
    cmp = compare(store, "sfepy", "abaqus", rtol=1.0)
    assert not cmp.ok and cmp.rows == [] and len(cmp.missing_in_b) == 2


def test_near_zero_reference_uses_atol(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "z.db") as st:
        st.put([row("s1", "talus", "mean", 1e-9, "a")])
        st.put([row("s1", "talus", "mean", 0.0, "b")])
        cmp = compare(st, "a", "b", rtol=0.01, atol=1e-6)
        assert cmp.rows[0].rel_diff == pytest.approx(1e-3) and cmp.ok


def test_to_json_is_stable(store: LabelStore) -> None:
    data = json.loads(compare(store, "sfepy", "calculix", rtol=0.01).to_json())
    assert list(data) == [
        "backend_a", "backend_b", "atol", "ok", "compared", "failed", "max_rel_diff",
        "rows", "missing_in_a", "missing_in_b",
    ]  # fmt: skip
    assert data["ok"] is False and data["failed"] == 1
    assert list(data["rows"][0]) == [
        "subject", "trial", "phase", "bone", "stat", "a", "b", "rel_diff", "tol", "ok",
    ]  # fmt: skip


def test_bad_tolerances() -> None:
    with pytest.raises(ValueError, match="no tolerance"):
        tolerance_for({"mean": 0.1}, "p99")
    assert tolerance_for({"mean": 0.1, "default": 0.2}, "p99") == 0.2
