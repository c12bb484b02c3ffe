"""Run trials on a Dask cluster (``dask.distributed``): ``--executor dask [--scheduler URL]``.

Without a scheduler URL a ``LocalCluster`` of ``workers`` processes (one thread each) is started
here. Workers open the label store themselves, so a cluster spread over machines needs a store
every machine reaches (PostgreSQL) and a run directory on a shared file system.

Linear-solver threads: with a LocalCluster, the machine's cores shared among the workers (as the
local pool does); on a remote cluster the profile's ``threads``, or else — decided on the worker —
the worker host's cores divided by the task slots (worker threads) the scheduler lists on it.
A worker that dies mid-task is retried by the scheduler on another worker (``distributed``'s
``allowed-failures``, default 3); after that the trial is recorded as failed.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlparse

from footdt.errors import FootdtError
from footdt.pipeline.pool import WorkerDied
from footdt.pipeline.steps import TrialTask
from footdt.pipeline.trial import TrialOutcome, one_line, run_trial

CONNECT_TIMEOUT_S = 10.0
INSTALL_HINT = "pip install 'dask[distributed]'"


def dask_version() -> str:
    try:
        import distributed
    except ImportError:
        raise FootdtError(f"--executor dask needs dask.distributed; {INSTALL_HINT}") from None
    return str(distributed.__version__)


def _run_on_worker(task: TrialTask, host_slots: dict[str, int]) -> TrialOutcome:
    """The task as a Dask worker runs it: pick the solver threads, limit BLAS, run the trial."""
    from dataclasses import replace

    threads = task.threads
    if threads <= 0:
        from distributed import get_worker

        host = urlparse(get_worker().address).hostname or ""
        threads = max(1, (os.cpu_count() or 1) // max(1, host_slots.get(host, 1)))
        task = replace(task, threads=threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return run_trial(task)
    with threadpool_limits(threads):
        return run_trial(task)


class DaskExecutor:
    """A Dask client (and, without a scheduler URL, its LocalCluster); use as a context manager."""

    def __init__(self, scheduler: str | None, workers: int) -> None:
        self.version = dask_version()
        from distributed import Client, LocalCluster

        self.scheduler = scheduler
        self.cluster: Any = None
        try:
            if scheduler is None:
                self.cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.ERROR,
                )  # fmt: skip
                self.client = Client(self.cluster)
            else:
                self.client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            self.close()
            where = scheduler or "a local cluster"
            raise FootdtError(
                f"cannot reach the dask scheduler {where} ({one_line(exc)}); start it with "
                "`dask scheduler` (and `dask worker URL`) or drop --scheduler for a local cluster"
            ) from None

    def host_slots(self) -> dict[str, int]:
        """Task slots (worker threads) per worker host, from the scheduler."""
        slots: Counter[str] = Counter()
        for addr, info in self.client.scheduler_info().get("workers", {}).items():
            slots[urlparse(addr).hostname or ""] += int(info.get("nthreads", 1))
        return dict(slots)

    def run(
        self, tasks: Iterable[TrialTask], started: Callable[[TrialTask, int], None] | None = None
    ) -> Iterator[TrialOutcome | WorkerDied]:
        from distributed import as_completed

        slots = self.host_slots()
        futures = {}
        for task in tasks:
            fut = self.client.submit(
                _run_on_worker, task, slots, pure=False,
                key=f"footdt-{task.subject}-{task.trial}-{os.urandom(4).hex()}",
            )  # fmt: skip
            futures[fut] = task  # queued on the scheduler: `started` is not known here
        try:
            for fut in as_completed(list(futures)):
                task = futures[fut]
                try:
                    yield fut.result()
                except Exception as exc:  # KilledWorker, lost connection, ...
                    yield WorkerDied(task, f"dask: {one_line(exc)}")
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
