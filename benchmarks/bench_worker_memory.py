"""What a `footdt run` worker holds before its first trial: for each backend, a one-trial cohort
(the coarse two-material block) run with a single step that records the worker's resident memory
(``/proc/self/status``) and whether SfePy and gmsh are imported. The worker is forked from the
fork server after its preload (``footdt.pipeline.preload``), so this is the preload's cost,
counted again in every worker's peak.

    .venv/bin/python benchmarks/bench_worker_memory.py [--backends native,sfepy,calculix]

The footdt measured is the one of the working directory (the fork server puts it first on its
path) and of ``PYTHONPATH``: to measure another checkout, run this file from that checkout with
its path in ``PYTHONPATH`` and another ``--name``. Writes ``results/worker_memory.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from footdt.pipeline.steps import Step, StepContext

HERE = Path(__file__).resolve().parent


def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, value = line.split(":", 1)
            if key in ("VmRSS", "RssAnon", "RssFile"):
                out[key + "_mb"] = int(value.split()[0]) // 1024
    return out


class WorkerMemory(Step):
    name = "worker_memory"
    needs = ("spec",)
    makes = ("memory",)

    def run(self, ctx: StepContext, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"memory": _status(), "sfepy": "sfepy" in sys.modules, "gmsh": "gmsh" in sys.modules,
                "modules": len(sys.modules)}  # fmt: skip


def main() -> None:
    sys.path.insert(0, str(HERE))
    sys.path.append(str(HERE.parent))  # tests.pipeline.conftest, after PYTHONPATH's footdt
    from _harness import write

    import footdt
    from footdt.labels.store import LabelStore
    from footdt.pipeline.runner import RunOptions, run_cohort
    from footdt.pipeline.state import RunState
    from tests.pipeline.conftest import make_cohort

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backends", default="native,sfepy,calculix")
    ap.add_argument("--name", default="worker_memory")
    args = ap.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-worker-memory-") as tmp:
        cohort = make_cohort(Path(tmp) / "cohort", subjects=1, trials=1)
        for backend in args.backends.split(","):
            store = str(Path(tmp) / f"{backend}.db")
            run_cohort(cohort, RunOptions(backend=backend, store=store), steps=(WorkerMemory(),))
            with LabelStore(store) as st:
                recs = RunState.in_store(st).records(backend)
            rows[backend] = next(r.outputs for r in recs if r.step == WorkerMemory.name)
            print(backend, rows[backend], flush=True)
    path = write(args.name, {"footdt_path": str(Path(footdt.__file__).parent), "workers": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
