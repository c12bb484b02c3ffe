"""Run (``run_trial``, in a worker) or assess (``assess``, anywhere) the steps of one trial.

``run_trial`` never raises for a failing step: it records the failure (step, one-line reason) in
the run state, writes the traceback to the subject's log, and returns a ``TrialOutcome``.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import socket
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from footdt.errors import FootdtError
from footdt.pipeline.state import RunState, StepRecord, now
from footdt.pipeline.steps import StepContext, TrialTask, describe_change, digest

Outcome = Literal["done", "up_to_date", "failed"]
Assessed = Literal["done", "stale", "failed", "pending"]


@dataclass(frozen=True)
class TrialOutcome:
    subject: str
    trial: str
    status: Outcome
    steps_run: tuple[str, ...] = ()
    failed_step: str = ""
    reason: str = ""
    wall_time_s: float = 0.0
    log: str = ""
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    peak_rss_mb: float = 0.0


@dataclass(frozen=True)
class Assessment:
    status: Assessed
    step: str = ""
    reason: str = ""
    record: StepRecord | None = None


def one_line(exc: BaseException) -> str:
    """A failure reason: a footdt error's own message, else ``Type: first line``."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    if isinstance(exc, FootdtError):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def open_state(task: TrialTask, ctx: StepContext) -> RunState:
    if task.state_dir is not None:
        return _cached_state(task.state_dir)
    return RunState.in_store(ctx.label_store(), create=False)


_STATES: dict[str, RunState] = {}


def _cached_state(directory: str) -> RunState:
    if directory not in _STATES:
        _STATES[directory] = RunState.in_directory(directory, create=False)
    return _STATES[directory]


_STORES: dict[str, Any] = {}


def _cached_store(url: str) -> Any:
    from footdt.labels.store import LabelStore

    if url not in _STORES:
        _STORES[url] = LabelStore(url, create=False)
    return _STORES[url]


def assess(task: TrialTask, state: RunState, ctx: StepContext | None = None) -> Assessment:
    """Is the trial up to date? Cheap: keys from the records, outputs checked for existence."""
    ctx = ctx or StepContext(task, log=lambda _m: None)
    values: dict[str, Any] = {"spec": ctx.loaded_spec().hash}
    rec: StepRecord | None = None
    for step in task.steps:
        inputs = step.inputs(ctx, values)
        rec = state.get(task.subject, task.trial, task.backend, step.name)
        if rec is None:
            return Assessment("pending", step.name, "not run yet")
        if rec.key != digest(inputs):
            return Assessment("stale", step.name, describe_change(rec.inputs, inputs), rec)
        if rec.status == "running":
            why = f"interrupted or still running (started {rec.started_at} on {rec.host}, pid {rec.pid})"
            return Assessment("pending", step.name, why, rec)
        if rec.status == "failed":
            return Assessment("failed", step.name, rec.reason, rec)
        if not step.verify(ctx, rec.outputs, thorough=False):
            return Assessment("stale", step.name, "outputs are missing", rec)
        values.update(rec.outputs)
    return Assessment("done", record=rec)


class _Log:
    """Lines appended to the subject's log file (``O_APPEND``: safe for several writers)."""

    def __init__(self, path: str, trial: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.trial = trial

    def __call__(self, message: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        text = "".join(f"{stamp} [{self.trial}] {line}\n" for line in message.splitlines())
        os.write(self.fd, text.encode())

    @contextlib.contextmanager
    def capture(self, enabled: bool) -> Iterator[None]:
        """Send everything written to file descriptors 1 and 2 (C libraries too) to the log."""
        if not enabled:
            yield
            return
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(self.fd, 1)
        os.dup2(self.fd, 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])

    def close(self) -> None:
        os.close(self.fd)


def peak_rss_mb() -> float:
    """Peak resident memory (MB) of this process or its largest child (e.g. ccx)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024.0, 1)


def run_trial(task: TrialTask) -> TrialOutcome:
    """Run the steps of one trial that are not up to date; record each step's state."""
    start = time.perf_counter()
    log = _Log(task.log_path, task.trial)
    ctx = StepContext(task, log=log)
    if task.store_url is not None:
        ctx.store = _cached_store(task.store_url)
    done: list[str] = []
    name = "spec"

    def outcome(status: Outcome, reason: str = "") -> TrialOutcome:
        return TrialOutcome(task.subject, task.trial, status, tuple(done),
                            name if status == "failed" else "", reason,
                            round(time.perf_counter() - start, 3), task.log_path,
                            peak_rss_mb=peak_rss_mb())  # fmt: skip

    try:
        with log.capture(task.capture_fds):
            _clean_temporaries(Path(task.trial_dir))
            state = open_state(task, ctx)
            values: dict[str, Any] = {"spec": ctx.loaded_spec().hash}
            for step in task.steps:
                name = step.name
                inputs = step.inputs(ctx, values)
                key = digest(inputs)
                rec = state.get(task.subject, task.trial, task.backend, name)
                if (
                    rec is not None
                    and rec.status == "done"
                    and rec.key == key
                    and step.verify(ctx, rec.outputs, thorough=True)
                ):
                    values.update(rec.outputs)
                    continue
                log(f"{name}: running (key {key})")
                state.start(task.subject, task.trial, task.backend, name, key, inputs)
                began, t0 = now(), time.perf_counter()
                try:
                    outputs = step.run(ctx, values)
                except Exception as exc:
                    reason = one_line(exc)
                    log(f"{name}: FAILED: {reason}\n{traceback.format_exc()}")
                    state.fail(task.subject, task.trial, task.backend, name, key, reason, inputs,
                               began, time.perf_counter() - t0)  # fmt: skip
                    return outcome("failed", reason)
                state.finish(task.subject, task.trial, task.backend, name, key, inputs, outputs,
                             began, time.perf_counter() - t0)  # fmt: skip
                values.update(outputs)
                done.append(name)
                log(f"{name}: done in {time.perf_counter() - t0:.2f} s")
    except Exception as exc:  # the state itself, the spec, the log: not a step's fault
        reason = one_line(exc)
        with contextlib.suppress(OSError):
            log(f"{name}: FAILED: {reason}\n{traceback.format_exc()}")
        return outcome("failed", reason)
    finally:
        log.close()
    return outcome("done" if done else "up_to_date")


def _clean_temporaries(directory: Path) -> None:
    """Remove what a killed run left half done: ``.NAME.*.tmp`` files (``atomic_write``) and
    ``.deck-*`` directories (decks are written there, then renamed into place)."""
    if directory.is_dir():
        for tmp in directory.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        for tmp in directory.glob(".deck-*"):
            shutil.rmtree(tmp, ignore_errors=True)
