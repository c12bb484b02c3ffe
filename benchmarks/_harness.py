"""Shared benchmark plumbing: run a measurement in a fresh process, record peak memory, write JSON."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def run_isolated(code: str, timeout: float = 1800) -> dict[str, Any]:
    """Run python ``code`` in a child process; it must print one JSON object on its last line.

    Adds ``peak_rss_mb``: the larger of the child's own peak RSS and that of its children
    (e.g. ``ccx``), from ``getrusage``.
    """
    wrapper = (
        "import json, resource, sys\n"
        + code
        + "\nself_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss"
        + "\nkids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss"
        + "\nRESULT['peak_rss_mb'] = round(max(self_kb, kids_kb) / 1024, 1)"
        + "\nprint(json.dumps(RESULT))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parents[1],
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    import footdt

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "footdt": footdt.__version__,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }


def write(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=1) + "\n")
    return path
