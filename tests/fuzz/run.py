"""``make fuzz``: the long fuzz run of ``footdt validate`` over mutations of every spec in specs/
and solver profile in solvers/, with counts (docs/robustness.md reports the last one).

    python -m tests.fuzz.run --cases 20000 --seed 1 --json build/fuzz.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.fuzz.harness import STATUSES, TIME_LIMIT_S, Summary, run_case
from tests.fuzz.mutator import generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=TIME_LIMIT_S)
    ap.add_argument("--json", type=Path, default=None, help="Write the summary here.")
    args = ap.parse_args(argv)
    summary = Summary()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="footdt-fuzz-") as tmp:
        for i, case in enumerate(generate(args.cases, args.seed), start=1):
            summary.add(run_case(case, Path(tmp), args.time_limit))
            if i % 1000 == 0:
                done = ", ".join(f"{s} {summary.counts[s]}" for s in STATUSES)
                print(f"{i:>7} cases ({time.perf_counter() - t0:.0f} s): {done}", flush=True)
    report = {"seed": args.seed, "wall_s": round(time.perf_counter() - t0, 1), **summary.as_dict()}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"cases {summary.cases}, seed {args.seed}, {report['wall_s']} s (slowest {report['slowest_s']} s)"
    )
    for s in STATUSES:
        print(f"  {s:<10} {summary.counts[s]}")
    print(f"  ({summary.must_refuse} cases were invalid by construction)")
    for status, examples in summary.examples.items():
        for ex in examples[:3]:
            print(f"--- {status}: {ex['seed']} {ex['op']}\n{ex['detail'][-800:]}")
    return 1 if summary.bad else 0


if __name__ == "__main__":
    sys.exit(main())
