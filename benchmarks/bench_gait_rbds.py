"""The RBDS check: acceleration-only gait events against treadmill force-plate contacts.

    .venv/bin/python benchmarks/bench_gait_rbds.py
    .venv/bin/python benchmarks/bench_gait_rbds.py --data ../shared/data/rbds_running_001 \
        --out benchmarks/results/gait_rbds.json

Virtual foot-dorsum and distal-tibia accelerometers are built from RBDS001's marker clusters
(15 Hz low-pass, gravity added, segment frames, resampled 150 -> 100 Hz; footdt/gait/rbds.py),
events are detected with the shipped footdt.gait.events.detect_events, and compared with
contacts from the treadmill's vertical force (timing level 5 % of body weight above the
baseline; 20 N and 50 N above it as a sensitivity check), for every trial (2.5 m/s text, 3.5 m/s
C3D). The shipped IC offset was learned on these trials: the held-out numbers are
bench_gait_validation.py's. Data is not shipped: the default path is
../shared/data/rbds_running_001 next to the repository.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "rbds_running_001"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="RBDS directory (runner 001).")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "gait_rbds.json")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"error: {args.data}: RBDS data not found (pass --data)", file=sys.stderr)
        return 2

    import footdt
    from footdt.gait.rbds import available_speeds, rbds_check

    t0 = time.perf_counter()
    trials, ok = {}, True
    for speed in available_speeds(args.data):
        run = rbds_check(args.data, speed=speed)
        run["sensitivity_threshold"] = {
            f"{int(n)}n_above_baseline": rbds_check(args.data, threshold_n=n, speed=speed)[
                "pooled_foot_tibia"
            ]
            for n in (20.0, 50.0)
        }
        trials[f"RBDS001runT{speed}"] = run
        ok &= run["pass"]
    wall = time.perf_counter() - t0
    result = {
        "benchmark": "gait_rbds",
        "data": "RBDS001 treadmill running 2.5 m/s and 3.5 m/s (Fukuchi et al. 2017, CC BY 4.0)",
        "command": "python benchmarks/bench_gait_rbds.py",
        "trials": trials,
        "pass": bool(ok),
        "wall_s": round(wall, 2),
        "footdt_version": footdt.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, run in trials.items():
        for side, leg in run["legs"].items():
            for label in ("foot+tibia", "foot", "tibia"):
                ic, to = leg[label]["ic"], leg[label]["to"]
                print(
                    f"{name} {side:5s} {label:10s} IC median {ic['median_error_ms']:+5.1f} ms "
                    f"|p95| {ic['p95_abs_error_ms']:4.1f} ms missed {ic['n_missed']} false {ic['n_false']}"
                    f" | TO median {to['median_error_ms']:+5.1f} ms |p95| {to['p95_abs_error_ms']:4.1f} ms"
                )
        pool = run["pooled_foot_tibia"]["ic"]
        print(f"{name}: pooled IC median |error| {pool['median_abs_error_ms']:.1f} ms, "
              f"{pool['n_missed']} missed of {pool['n_reference']}")  # fmt: skip
    print(f"{'PASS' if ok else 'FAIL'}: wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
