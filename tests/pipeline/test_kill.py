"""kill -9 a worker or the runner mid-run, run again: the store equals an uninterrupted run's.

The reference is one uninterrupted run of the same cohort (same spec paths, so the same model
hashes) into its own store. Interrupted runs must lose nothing that had finished (those trials
are skipped on the re-run), leave no half-written label rows (each trial has all or none of its
rows) or files, and leave no process behind.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from footdt.ir import load_model
from footdt.pipeline.runner import RunOptions, RunReport, run_cohort
from footdt.results import load_result
from tests.pipeline.conftest import REPO, assert_same_store, cli, make_cohort, snapshot

SUBJECTS, TRIALS, SIZE = 4, 2, 5.0  # ~0.3 s per solve: kills land mid-step
ROWS_PER_TRIAL = 16


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("kill")
    cohort = make_cohort(root / "cohort", subjects=SUBJECTS, trials=TRIALS, size=SIZE)
    store = str(root / "reference.db")
    report = run_cohort(cohort, RunOptions(store=store, workers=2, out=root / "reference"))
    assert report.counts()["done"] == SUBJECTS * TRIALS
    return cohort, store


def _poll(
    store: str, sql: str, ok: Callable[[list[Any]], bool], timeout: float = 90.0
) -> list[Any]:
    """Rows of ``sql`` on the store (read-only) once ``ok(rows)``; the run writes meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(store).exists():
            try:
                with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as conn:
                    rows = conn.execute(sql).fetchall()
                if ok(rows):
                    return rows
            except sqlite3.OperationalError:  # no table yet, or busy
                pass
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {sql!r}")


def _finished(store: str) -> set[tuple[str, str]]:
    sql = "select subject, trial from pipeline_steps where step='labels' and status='done'"
    return {(str(r[0]), str(r[1])) for r in _poll(store, sql, lambda rows: True)}


def _check_files(out: Path) -> None:
    assert not list(out.rglob("*.tmp")), "half-written temporary files left behind"
    for model_json in out.glob("*/*/model.json"):
        model = load_model(model_json.parent)  # a half-written model would not load
        assert load_result(model_json.parent, "sfepy").model_hash == model.content_hash()


def _whole_trials(store: str) -> None:
    """Every trial in the store has all of its rows: a kill never leaves half a put."""
    counts: dict[tuple[str, str], int] = {}
    for key in snapshot(store):
        trial = (key[0], key[1])
        counts[trial] = counts.get(trial, 0) + 1
    assert all(n == ROWS_PER_TRIAL for n in counts.values()), counts


def test_sigkill_a_worker_mid_solve(reference: tuple[Path, str], tmp_path: Path) -> None:
    cohort, ref = reference
    store, out = str(tmp_path / "labels.db"), tmp_path / "out"
    result: dict[str, RunReport] = {}
    runner = threading.Thread(
        target=lambda: result.update(
            report=run_cohort(cohort, RunOptions(store=store, workers=2, out=out))
        )
    )
    runner.start()
    running = "select pid from pipeline_steps where step='solve' and status='running'"
    pid = _poll(store, running, lambda rows: bool(rows))[0][0]
    os.kill(pid, signal.SIGKILL)
    runner.join(timeout=120)
    report = result["report"]
    failed = [o for o in report.outcomes if o.status == "failed"]
    assert len(failed) == 1 and failed[0].reason == "worker process died (killed by SIGKILL)"
    assert report.counts()["done"] == SUBJECTS * TRIALS - 1  # the others carried on
    _whole_trials(store)

    again = run_cohort(cohort, RunOptions(store=store, workers=2, out=out))
    assert [(o.subject, o.trial) for o in again.outcomes if o.status == "done"] == [
        (failed[0].subject, failed[0].trial)
    ]
    assert_same_store(store, ref)
    _check_files(out)


def _alive(pid: int) -> bool:
    """Running or sleeping: not gone and not a zombie (dead, waiting to be reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _session_processes(sid: int) -> list[int]:
    """Live processes of session ``sid`` (the runner's: it was started in a new session)."""
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if os.getsid(int(p.name)) == sid and _alive(int(p.name)):
                    pids.append(int(p.name))
            except ProcessLookupError:
                pass
    return pids


def _kill_runner_and_resume(cohort: Path, ref: str, tmp_path: Path, seed: int) -> None:
    store, out = str(tmp_path / "labels.db"), tmp_path / "out"
    cmd = [*cli(), "run", str(cohort), "--store", store, "--workers", "2", "--out", str(out),
           "--json"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _poll(store, "select count(*) from pipeline_steps where step='labels' and status='done'",
              lambda rows: rows[0][0] >= 1)  # fmt: skip
        time.sleep(random.Random(seed).uniform(0.0, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    killed_at = time.monotonic()
    sql = "select pid from pipeline_steps where status='running'"
    workers = {r[0] for r in _poll(store, sql, lambda rows: True)}
    done_at_kill = _finished(store)
    assert 1 <= len(done_at_kill) < SUBJECTS * TRIALS, "the kill did not land mid-run"
    while any(_alive(p) for p in workers) and time.monotonic() < killed_at + 3:
        time.sleep(0.05)
    assert not any(_alive(p) for p in workers), "workers went on solving after the runner died"
    while _session_processes(proc.pid) and time.monotonic() < killed_at + 15:
        time.sleep(0.05)
    assert _session_processes(proc.pid) == [], "processes outlived the killed runner"
    _whole_trials(store)

    second = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    status = {(t["subject"], t["trial"]): t["status"] for t in summary["trials"]}
    assert all(status[k] == "up_to_date" for k in done_at_kill)  # nothing finished was lost
    assert sum(s == "done" for s in status.values()) == SUBJECTS * TRIALS - len(done_at_kill)
    assert_same_store(store, ref)
    _check_files(out)


def test_sigkill_the_runner_then_resume(reference: tuple[Path, str], tmp_path: Path) -> None:
    _kill_runner_and_resume(*reference, tmp_path, seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sigkill_the_runner_at_more_random_points(
    reference: tuple[Path, str], tmp_path: Path, seed: int
) -> None:
    _kill_runner_and_resume(*reference, tmp_path, seed=seed)
