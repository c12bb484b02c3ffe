"""Run fuzz cases through the real ``footdt validate`` (in-process, via the CLI runner) and sort
each answer into: ``accepted`` (exit 0), ``error`` (exit 2 with clean one-line errors),
``malformed`` (an error that is not one line of at most 300 characters starting with the file),
``traceback`` (any other exception), ``hang`` (no answer within the time limit) and ``garbage``
(accepted although the mutation makes the file invalid)."""

from __future__ import annotations

import functools
import os
import signal
import time
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fuzz.mutator import Case

MAX_LINE = 300
TIME_LIMIT_S = 10.0
STATUSES = ("accepted", "error", "garbage", "malformed", "traceback", "hang")


class Hang(BaseException):
    """Raised by the alarm when a case runs over the time limit (not an Exception, so nothing in
    footdt or click can swallow it)."""


@dataclass
class Outcome:
    case: Case
    status: str
    seconds: float
    detail: str = ""


@dataclass
class Summary:
    cases: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    by_op: dict[str, Counter[str]] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    slowest: float = 0.0
    seconds: float = 0.0
    must_refuse: int = 0  # cases whose mutation makes the file invalid

    def add(self, o: Outcome) -> None:
        self.cases += 1
        self.must_refuse += o.case.expect == "refuse"
        self.counts[o.status] += 1
        op = o.case.op.split(":")[0]
        self.by_op.setdefault(op, Counter())[o.status] += 1
        self.slowest = max(self.slowest, o.seconds)
        self.seconds += o.seconds
        if o.status in ("garbage", "malformed", "traceback", "hang"):
            ex = self.examples.setdefault(o.status, [])
            if len(ex) < 10:
                ex.append(
                    {
                        "seed": o.case.seed,
                        "op": o.case.op,
                        "expect": o.case.expect,
                        "what": o.case.what,
                        "head": o.case.content[:300].decode("utf-8", "replace"),
                        "detail": o.detail[-2000:],
                    }
                )

    @property
    def bad(self) -> int:
        return sum(self.counts[s] for s in ("garbage", "malformed", "traceback", "hang"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "counts": {s: self.counts[s] for s in STATUSES},
            "refused_cleanly": self.counts["error"],
            "must_refuse": self.must_refuse,
            "slowest_s": round(self.slowest, 3),
            "total_s": round(self.seconds, 1),
            "by_op": {op: dict(c) for op, c in sorted(self.by_op.items())},
            "examples": self.examples,
        }


def _materialise(case: Case, folder: Path) -> Path:
    path = folder / f"{case.filename}{case.suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if case.special == "fifo":
        os.mkfifo(path)
    elif case.special == "dev_zero":
        path.symlink_to("/dev/zero")
    elif case.special == "dev_null":
        path.symlink_to("/dev/null")
    elif case.special == "folder":
        path.mkdir()
    elif case.special == "symlink_loop":
        path.symlink_to(path)
    elif case.special == "missing":
        pass
    else:
        path.write_bytes(case.content)
    return path


def _remove(path: Path, folder: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    while path.parent != folder:  # folders a file name made (bar [/].yaml)
        path = path.parent
        path.rmdir()


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def _check_errors(stderr: str, path: Path) -> str:
    """'' when every line is a clean one-line error about ``path``, else what is wrong."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if not lines:
        return "exit 2 without an error message"
    shown = str(path)
    for ln in lines:
        if not ln.startswith("error: "):
            return f"not an error line: {ln[:200]!r}"
        if len(ln) > MAX_LINE:
            return f"line of {len(ln)} characters"
        if not ln[len("error: ") :].startswith(shown + ":"):
            return f"does not start with the file: {ln[:200]!r}"
    if len(lines) > 12:
        return f"{len(lines)} error lines"
    return ""


@functools.cache
def _command() -> Any:
    """The click command behind ``footdt`` (built once: typer's runner rebuilds it per call)."""
    import typer

    from footdt.cli.app import app

    return typer.main.get_command(app)


def run_case(case: Case, folder: Path, time_limit: float = TIME_LIMIT_S) -> Outcome:
    from click.testing import CliRunner

    path = _materialise(case, folder)
    runner = CliRunner()
    old = signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    try:
        signal.setitimer(signal.ITIMER_REAL, time_limit)
        try:
            result = runner.invoke(_command(), ["validate", str(path)], prog_name="footdt")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except Hang:
        return Outcome(case, "hang", time.perf_counter() - start, f"over {time_limit:g} s")
    finally:
        signal.signal(signal.SIGALRM, old)
        _remove(path, folder)
    seconds = time.perf_counter() - start
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return Outcome(case, "traceback", seconds, tb)
    if seconds > time_limit:
        return Outcome(case, "hang", seconds, f"{seconds:.1f} s")
    if result.exit_code == 0:
        if case.expect == "refuse":
            return Outcome(case, "garbage", seconds, result.output[-500:])
        return Outcome(case, "accepted", seconds)
    if result.exit_code != 2:
        return Outcome(case, "malformed", seconds, f"exit {result.exit_code}: {result.output}")
    problem = _check_errors(result.stderr, path)
    if problem:
        return Outcome(case, "malformed", seconds, f"{problem}\n{result.stderr[-1500:]}")
    return Outcome(case, "error", seconds)


def run_cases(cases: Iterable[Case], folder: Path, time_limit: float = TIME_LIMIT_S) -> Summary:
    summary = Summary()
    for case in cases:
        summary.add(run_case(case, folder, time_limit))
    return summary
