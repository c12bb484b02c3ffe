"""README.md's tour: every `footdt` command parses (its sub-command and options exist and its
values have the right types; fast, in the default suite), and the whole tour runs as written in
a fresh directory, in order, each command exit 0 (slow: ``pytest -m slow -s
tests/cli/test_readme_tour.py`` prints each command's wall time)."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer import _click as click  # typer vendors click: its classes and errors, not click's
from typer.core import TyperGroup

from footdt.cli.app import app
from tests.conftest import REPO


def tour_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    tour = text.split("## A five-minute tour", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    lines = tour.splitlines()
    out = []
    for i, line in enumerate(lines):
        line = line.strip()
        if not line.startswith("$ footdt"):
            continue
        while line.endswith("\\"):  # a command continued on the next line
            i += 1
            line = line[:-1] + " " + lines[i].strip()
        cmd = re.split(r"\s+#", line[2:], maxsplit=1)[0]
        out += [c.strip() for c in cmd.split("&&")]
    return out


def parse(command: str) -> None:
    """Resolve ``command``'s (sub-)command and parse its arguments as footdt would."""
    args = shlex.split(command)[1:]
    cmd: click.Command = typer.main.get_command(app)
    while args and args[0] in ("--verbose", "-v"):  # footdt's own options come first
        args = args[1:]
    ctx: click.Context | None = None
    while isinstance(cmd, TyperGroup):  # footdt, then labels / gait / cohort / loads
        name, args = args[0], args[1:]
        ctx = click.Context(cmd, info_name=cmd.name, parent=ctx)
        sub = cmd.get_command(ctx, name)
        assert sub is not None, f"{command}: no command {name!r}"
        cmd = sub
    cmd.make_context(cmd.name, list(args), parent=ctx)  # raises on an unknown option or a bad value


@pytest.mark.parametrize("command", tour_commands())
def test_tour_command_parses(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a fresh directory with the repository's specs/, where the files a command reads
    exist (empty: existence is all parsing checks)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").symlink_to(REPO / "specs")
    for token in shlex.split(command):
        p = Path(token)
        if (
            not token.startswith("-")
            and p.suffix
            and not token.startswith("specs/")
            and not p.exists()
        ):
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch()
    parse(command)


@pytest.mark.parametrize(
    "command",
    ["footdt labels show --store x.db --bogus", "footdt labels show --limit many",
     "footdt demo -n 3", "footdt gait nosuch x.csv"],
)  # fmt: skip
def test_a_wrong_command_or_option_is_caught(command: str) -> None:
    with pytest.raises((click.exceptions.UsageError, AssertionError)):
        parse(command)


def test_the_tour_has_commands() -> None:
    assert len(tour_commands()) >= 15


def needs_ccx(command: str) -> bool:
    """Commands that run CalculiX (a compile only writes its deck), or compare with its labels."""
    args = shlex.split(command)
    return "calculix" in args and "compile" not in args


def argv(command: str, cwd: Path) -> list[str]:
    """``footdt ARGS`` as this Python's ``-m footdt``, with the shell's glob expansion."""
    out = [sys.executable, "-m", "footdt"]
    for token in shlex.split(command)[1:]:
        hits = sorted(glob.glob(token, root_dir=cwd)) if any(c in token for c in "*?[") else []
        out += hits or [token]
    return out


def _cpu_children() -> float:
    """CPU time (user + sys, s) of every descendant this process has waited for."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _adopt_orphans(on: bool = True) -> bool:
    """Make this process the reaper of its orphaned descendants (Linux; ``on=False`` undoes it):
    ``footdt run``'s fork server outlives the command, and its workers' CPU time counts only once
    it is reaped here."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, int(on), 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return False


def _children() -> set[int]:
    """Pids of this process's live children (Linux ``/proc/<pid>/task/<tid>/children``)."""
    pids: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").glob("*"):
        with contextlib.suppress(OSError):
            pids |= {int(p) for p in (task / "children").read_text().split()}
    return pids


def _reap_orphans(before: set[int], timeout_s: float = 60.0) -> None:
    """Wait for the descendants adopted during the last command (a fork server exits once its
    footdt has): the children not in ``before``. Children this process had already (e.g. an
    earlier test's fork server, alive for the whole session) are not waited for."""
    pending = _children() - before
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                pending.discard(pid)
        if pending:
            time.sleep(0.05)


def _run_tour(
    cwd: Path, env: dict[str, str], have_ccx: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    """Run the tour's commands in ``cwd``: one row of times per command run, and those skipped
    (CalculiX without ccx); stops at the first that fails."""
    rows: list[dict[str, Any]] = []
    skipped = []
    print(f"\nREADME tour on {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    for command in tour_commands():
        if needs_ccx(command) and not have_ccx:
            skipped.append(command)
            continue
        before = _children()
        load, cpu, start = os.getloadavg()[0], _cpu_children(), time.perf_counter()
        res = subprocess.run(argv(command, cwd), cwd=cwd, env=env, capture_output=True,
                             text=True, stdin=subprocess.DEVNULL)  # fmt: skip
        wall = time.perf_counter() - start
        _reap_orphans(before)
        cpu = _cpu_children() - cpu
        rows.append({"command": command, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                     "load_before": load, "load_after": os.getloadavg()[0]})  # fmt: skip
        print(f"{wall:7.1f} s wall {cpu:7.1f} s CPU  load {load:4.1f}  {command}", flush=True)
        assert res.returncode == 0, (
            f"{command}: exit {res.returncode}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
        )
    return rows, skipped


#: What the tour may take on an idle 2-core machine (s): "a five-minute tour". Checked on its CPU
#: time: the commands run one after the other, and `footdt run`'s 2 workers took as long as their
#: CPU time here even at load average 2 (multi-threaded steps make the CPU time the larger).
TOUR_LIMIT_S = 300.0


@pytest.mark.slow
def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    """Each command in order in a fresh directory with the repository's specs/ (and an empty
    FOOTDT_CACHE: no template mesh or shape model from earlier), from the files the tour itself
    writes; each must exit 0.

    Prints each command's wall and CPU time (user + sys, worker processes included) and the load
    average; with FOOTDT_TOUR_JSON=PATH also writes them there. The limit is checked on the CPU
    time (``TOUR_LIMIT_S``): on a shared machine the wall time also counts other people's work,
    the CPU time only ours."""
    (tmp_path / "specs").symlink_to(REPO / "specs")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    have_ccx = shutil.which("ccx") is not None
    counted = _adopt_orphans()
    try:
        rows, skipped = _run_tour(tmp_path, env, have_ccx)
    finally:
        _adopt_orphans(False)
    total = {k: sum(float(r[k]) for r in rows) for k in ("wall_s", "cpu_s")}
    print(f"{total['wall_s']:7.1f} s wall {total['cpu_s']:7.1f} s CPU  total "
          f"({total['wall_s'] / 60:.1f} min wall, {total['cpu_s'] / 60:.1f} min CPU)")  # fmt: skip
    if os.environ.get("FOOTDT_TOUR_JSON"):
        import json
        import platform
        from datetime import UTC, datetime

        loads = [float(r[k]) for r in rows for k in ("load_before", "load_after")]
        Path(os.environ["FOOTDT_TOUR_JSON"]).write_text(json.dumps(
            {"command": "FOOTDT_TOUR_JSON=PATH pytest tests/cli/test_readme_tour.py -m slow -s",
             "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
             "machine": platform.platform(), "cores": os.cpu_count(),
             "load_average_1min": [min(loads), max(loads)], "workers_cpu_counted": counted,
             **{f"total_{k}": round(v, 1) for k, v in total.items()}, "commands": rows},
            indent=1) + "\n")  # fmt: skip
    if skipped:
        pytest.skip(f"ccx not found: skipped {len(skipped)} CalculiX commands ({skipped[0]}, ...)")
    if not counted:  # pragma: no cover - not Linux: the workers' CPU time is not seen
        pytest.skip("cannot count the worker processes' CPU time here (no PR_SET_CHILD_SUBREAPER)")
    assert total["cpu_s"] < TOUR_LIMIT_S


def test_tour_helpers(tmp_path: Path) -> None:
    """What the slow tour test relies on: CalculiX commands are known (to skip without ccx), a
    command continued with a backslash is one command, globs expand as a shell's would."""
    assert needs_ccx("footdt solve build/bar --backend calculix --store labels.db")
    assert needs_ccx("footdt labels compare --store labels.db sfepy calculix --rtol 0.01")
    assert not needs_ccx("footdt compile x.yaml --backend calculix --out build/bar")
    assert not needs_ccx("footdt solve x.yaml --backend sfepy")
    assert any("gait detect" in c and "--sensors" in c for c in tour_commands())
    for name in ("b.yaml", "a.yaml"):
        (tmp_path / name).touch()
    assert argv("footdt validate *.yaml", tmp_path)[3:] == ["validate", "a.yaml", "b.yaml"]


@pytest.mark.skipif(not Path(f"/proc/{os.getpid()}/task").is_dir(), reason="needs Linux /proc")
def test_only_the_commands_orphans_are_waited_for() -> None:
    """A child this process had before a command (an earlier test's fork server) is not waited
    for; a grandchild the command left behind (adopted, it exits soon) is reaped."""
    old = subprocess.Popen(["sleep", "30"])
    try:
        assert _adopt_orphans()
        before = _children()
        assert old.pid in before
        subprocess.run(["sh", "-c", "sleep 0.3 &"], check=True)  # leaves an orphan behind
        t0 = time.monotonic()
        _reap_orphans(before, timeout_s=20.0)
        assert time.monotonic() - t0 < 10.0 and old.poll() is None
        assert _children() - before == set()
    finally:
        _adopt_orphans(False)
        old.kill()
        old.wait()
