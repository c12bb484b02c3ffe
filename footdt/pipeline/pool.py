"""A local pool of worker processes that survives the death of a worker.

Each worker is a process forked from a fork server (which imported the run's backend's solver
stack once, see ``footdt.pipeline.preload``) that runs one ``TrialTask`` at a time, received over its own pipe. The parent always knows which task each worker holds, so when a worker dies (killed, out
of memory, a crash in a C library) exactly that task is reported as failed — with the signal or
exit code — a fresh worker takes its place and the other tasks carry on. Workers ignore Ctrl-C
(the parent stops them) and die within about a second of the runner (see ``_die_with_runner``), so
a killed run leaves no orphan solving on.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from footdt.errors import FootdtError
from footdt.pipeline.steps import TrialTask
from footdt.pipeline.trial import TrialOutcome, run_trial

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class WorkerDied:
    """The worker running ``task`` ended without answering."""

    task: TrialTask
    reason: str


def _die_with_runner(runner: int) -> None:
    """Make sure this worker dies within a second of the runner, even in the middle of a solve.

    1. ``PR_SET_PDEATHSIG``: the kernel SIGKILLs us when our parent dies. Our parent is the fork
       server, which exits when the last holder of its "alive" pipe closes it: the runner and
       every worker hold a copy, so the worker closes its own (it starts no processes itself).
    2. A watchdog thread checks the runner's pid every second (in case 1 cannot work).
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    from multiprocessing import forkserver

    alive = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_alive_fd", None)
    if isinstance(alive, int):
        with contextlib.suppress(OSError):
            os.close(alive)

    def watch() -> None:
        while True:
            try:
                os.kill(runner, 0)
            except ProcessLookupError:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(1.0)

    threading.Thread(target=watch, name="footdt-watchdog", daemon=True).start()


#: The preload the fork server this process started was started with (None: not started by us).
_served: list[str] | None = None


def _context(backend: str | None = None) -> Any:
    """A fork server that imported ``backend``'s solver stack once (fast, clean workers; None:
    every backend's); else spawn. A fork server this process started for another stack is
    stopped first (its workers are gone by then: each run stops its own)."""
    global _served
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")  # pragma: no cover - not POSIX
    from multiprocessing import forkserver

    from footdt.pipeline.preload import module_for

    ctx = mp.get_context("forkserver")
    wanted = [module_for(backend)]
    server = forkserver._forkserver  # the one every forkserver context uses
    running = getattr(server, "_forkserver_pid", None) is not None
    if running and _served is not None and _served != wanted:
        server._stop()  # type: ignore[attr-defined]  # returns once it exited (no worker left)
        running = False
    ctx.set_forkserver_preload(wanted)
    if not running:
        _served = wanted
    return ctx


def start_fork_server(backend: str | None = None) -> None:
    """Start the fork server (and its imports) now, in parallel with the runner's own planning."""
    if _context(backend).get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _worker_main(conn: Connection, runner: int, threads: int) -> None:
    _die_with_runner(runner)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if threads > 0:
        with contextlib.suppress(ImportError):
            from threadpoolctl import threadpool_limits

            threadpool_limits(threads)  # BLAS/OpenMP pools of numpy, scipy, MKL: for good
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        conn.send(run_trial(task))


def death_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            sig = signal.Signals(-exitcode).name
        except ValueError:
            sig = f"signal {-exitcode}"
        return f"worker process died (killed by {sig})"
    return f"worker process died (exit code {exitcode})"


class _Worker:
    def __init__(self, ctx: Any, threads: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_worker_main, args=(child, os.getpid(), threads), daemon=True,
            name="footdt-worker",
        )  # fmt: skip
        self.proc.start()
        child.close()
        self.task: TrialTask | None = None

    def stop(self, timeout: float = 5.0) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


class LocalPool:
    """``workers`` processes; linear-solver/BLAS threads per worker = ``threads``; the workers
    start with ``backend``'s solver stack imported (None: every backend's)."""

    def __init__(self, workers: int, threads: int, backend: str | None = None) -> None:
        self.n, self.threads = max(1, workers), threads
        self._ctx = _context(backend)  # never a fork of the threaded parent (rich, SQLAlchemy)
        self.workers: list[_Worker] = []
        self.pids: list[int] = []
        self._queue: deque[TrialTask] = deque()

    def run(
        self, tasks: Iterable[TrialTask], started: Callable[[TrialTask, int], None] | None = None
    ) -> Iterator[TrialOutcome | WorkerDied]:
        """Yield each task's outcome (or ``WorkerDied``) as it finishes, in completion order."""
        queue = self._queue = deque(tasks)
        finished = False
        try:
            self.workers = [
                _Worker(self._ctx, self.threads) for _ in range(min(self.n, len(queue)))
            ]
            self.pids = [w.proc.pid or 0 for w in self.workers]
            lost = 0
            while queue or any(w.task is not None for w in self.workers):
                for i in range(len(self.workers)):
                    while self.workers[i].task is None and queue:
                        w = self.workers[i]
                        task = queue.popleft()
                        try:
                            w.conn.send(task)
                        except OSError:  # it died while idle: the task never began, give it on
                            queue.appendleft(task)
                            lost += 1
                            if lost > 3 * self.n:
                                raise FootdtError(
                                    f"worker processes keep dying before they start a trial "
                                    f"({death_reason(w.proc.exitcode)}); check memory and limits"
                                ) from None
                            self._replace(w)
                            continue
                        w.task = task
                        if started is not None:
                            started(task, w.proc.pid or 0)
                busy = [w for w in self.workers if w.task is not None]
                assert busy, "tasks left but no worker holds one"  # never wait on nothing
                ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
                for w in busy:
                    if w.conn not in ready and w.proc.sentinel not in ready:
                        continue
                    result = self._receive(w)
                    if result is not None:
                        yield result
            finished = True
        finally:  # interrupted (Ctrl-C, an error, the consumer stopped): kill, don't wait
            for w in self.workers:
                w.stop(timeout=5.0 if finished else 0.0)

    def _receive(self, w: _Worker) -> TrialOutcome | WorkerDied | None:
        task = w.task
        assert task is not None
        try:
            if w.conn.poll():
                out: TrialOutcome = w.conn.recv()
                w.task = None
                return out
        except (EOFError, OSError):
            pass
        if w.proc.is_alive():
            return None  # the sentinel fired for another reason; keep waiting
        w.proc.join()
        reason = death_reason(w.proc.exitcode)
        w.task = None
        if self._queue:  # a fresh worker takes the dead one's place
            self._replace(w)
        else:
            w.conn.close()
            self.workers.remove(w)
        return WorkerDied(task, reason)

    def _replace(self, w: _Worker) -> None:
        w.proc.join()
        w.conn.close()
        replacement = _Worker(self._ctx, self.threads)
        self.workers[self.workers.index(w)] = replacement
        self.pids.append(replacement.proc.pid or 0)
