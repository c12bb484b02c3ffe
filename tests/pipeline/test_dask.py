"""The same cohort on a Dask LocalCluster gives the same store as on the local pool."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from footdt.errors import FootdtError
from footdt.pipeline import dask_exec
from footdt.pipeline.runner import RunOptions, run_cohort
from tests.pipeline.conftest import assert_same_store, make_cohort

pytest.importorskip("distributed", reason="dask.distributed is not installed")


@pytest.mark.slow  # ~15 s: a LocalCluster's workers import the solver stack
def test_dask_local_cluster_matches_the_process_pool(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort", subjects=2, trials=2)
    local, dask = str(tmp_path / "local.db"), str(tmp_path / "dask.db")
    run_cohort(cohort, RunOptions(store=local, workers=2, out=tmp_path / "local"))
    opts = RunOptions(store=dask, workers=2, executor="dask", out=tmp_path / "dask")
    report = run_cohort(cohort, opts)
    assert report.counts() == {"done": 4, "up_to_date": 0, "failed": 0}
    assert report.executor == "dask" and report.threads >= 1
    assert os.getpid() not in {o.pid for o in report.outcomes}  # solved on the workers
    assert_same_store(dask, local)
    again = run_cohort(cohort, opts)  # resumable on Dask too: nothing to do
    assert again.counts()["up_to_date"] == 4

    # an existing cluster, by its scheduler's address (what --scheduler tcp://host:8786 does)
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = str(tmp_path / "remote.db")
        opts = RunOptions(store=remote, workers=2, executor="dask", out=tmp_path / "remote",
                          scheduler=cluster.scheduler_address)  # fmt: skip
        report = run_cohort(cohort, opts)
    assert report.counts()["done"] == 4 and report.threads == 0  # 0: chosen on each worker
    log = (tmp_path / "remote" / "logs" / "r01.log").read_text()
    assert f"threads {max(1, (os.cpu_count() or 1) // 2)}," in log  # cores / slots on the host
    assert_same_store(remote, local)


def test_unreachable_scheduler_is_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dask_exec, "CONNECT_TIMEOUT_S", 1.0)
    cohort = make_cohort(tmp_path / "cohort", subjects=1, trials=1)
    store = tmp_path / "labels.db"
    opts = RunOptions(store=str(store), executor="dask", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(FootdtError, match="cannot reach the dask scheduler tcp://127.0.0.1:1") as e:
        run_cohort(cohort, opts)
    assert "\n" not in str(e.value)
    assert not store.exists() and not (cohort / "runs").exists()
