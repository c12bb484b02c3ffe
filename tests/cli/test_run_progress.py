"""`footdt run` progress: an ETA from this run's trial times and the trials being worked on."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from footdt.cli.run import current_step, eta_reporter, eta_text


def test_eta_from_the_mean_trial_time_over_the_workers() -> None:
    assert eta_text(10, 0, [], [], 2) == "ETA after the first trial"
    # 6 left, 2 running for 4 s of a 10 s mean: (6 + 6) + 4 queued x 10 = 52 s over 2 workers
    assert eta_text(10, 4, [10.0, 10.0], [4.0, 4.0], 2) == "ETA 26 s"
    assert eta_text(100, 10, [60.0], [], 1) == "ETA 90 min 00 s"
    assert eta_text(5, 5, [1.0], [], 1) == "ETA 0 s"


def test_current_step_from_the_subjects_log(tmp_path: Path) -> None:
    """The log lines footdt.pipeline.trial writes; another trial of the subject interleaves."""
    log = tmp_path / "s01.log"
    log.write_text(
        "2026-01-01T00:00:00 [1] compile: running (key a)\n"
        "2026-01-01T00:00:01 [2] compile: running (key b)\n"
        "2026-01-01T00:00:02 [1] compile: done in 1.00 s\n"
        "2026-01-01T00:00:02 [1] solve: running (key c)\n"
        "solver output captured from file descriptor 1\n"
        "2026-01-01T00:00:03 [2] compile: FAILED: mesh quality\n"
    )
    assert current_step(log, "1") == "solve" and current_step(log, "2") is None
    assert current_step(tmp_path / "none.log", "1") is None


def test_reporter_shows_eta_and_current_steps(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    rep = eta_reporter(console, "sfepy x2", 2)
    log = tmp_path / "s01.log"
    log.write_text("t [1] compile: running (key a)\n")
    rep.begin(4, 1)
    rep.started(SimpleNamespace(subject="s01", trial="1", log_path=str(log)), 0)
    rep.started(SimpleNamespace(subject="s02", trial="1", log_path=str(tmp_path / "x.log")), 1)
    assert rep.now_text() == "now: s01/1 compile, s02/1 starting"
    rep.finished(SimpleNamespace(subject="s01", trial="1", status="done", steps_run=["solve"],
                                 wall_time_s=1.0, failed_step=None, reason=None))  # fmt: skip
    assert len(rep.durations) == 1 and rep.eta(4, 2).startswith("ETA")
    assert rep.now_text() == "now: s02/1 starting"
    rep.end()
    assert "done   s01/1: solve" in out.getvalue()
