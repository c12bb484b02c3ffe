"""How long `footdt --help` (and `footdt <command> --help`) take, beside a bare Python start-up in
the same run (the machine is shared: the reference says how loaded it was). A namespace package
without code (gias3's, found when checking which optional packages are there) does not count. Target (issue 16):
`footdt --help` under 0.3 s.

    .venv/bin/python benchmarks/bench_cli_startup.py [--repeat 10]

Writes benchmarks/results/cli_startup.json: median and max wall time per command, and the
modules `footdt --help` imported that `import footdt` must not (tensorflow, sfepy, ...).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "footdt --help": [sys.executable, "-m", "footdt", "--help"],
    "footdt run --help": [sys.executable, "-m", "footdt", "run", "--help"],
    "footdt predict --help": [sys.executable, "-m", "footdt", "predict", "--help"],
}
HEAVY = ("tensorflow", "sfepy", "gmsh", "opensim", "gias3", "keras", "optuna", "numpy", "scipy")


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    a = ap.parse_args()
    rows = {}
    for name, cmd in COMMANDS.items():
        _wall(cmd)  # warm the file cache
        times = [_wall(cmd) for _ in range(a.repeat)]
        rows[name] = {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}
        print(f"{name:24s} median {rows[name]['median_s']:.3f} s  max {rows[name]['max_s']:.3f} s")
    probe = ("import sys, runpy; sys.argv = ['footdt', '--help']\n"
             "try:\n    runpy.run_module('footdt', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             f"print(' '.join(m for m in {HEAVY!r} if getattr(sys.modules.get(m), '__file__', None)),"
             " file=sys.stderr)")  # fmt: skip
    heavy = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stderr
    rows["footdt --help"]["heavy_modules"] = (
        heavy.strip().splitlines()[-1].split() if heavy.strip() else []
    )
    print(
        "heavy modules imported by footdt --help:", rows["footdt --help"]["heavy_modules"] or "none"
    )
    path = write("cli_startup", {"repeat": a.repeat, "target_s": 0.3, "rows": rows})
    print(f"written {path}")


if __name__ == "__main__":
    main()
