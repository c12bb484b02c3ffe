"""Mesh-quality sweep of the foot template over cohort anthropometry (issue 3).

Draws ``--n`` feet (foot_length, foot_width, arch_height) reproducibly from the cohort generator's
anthropometry (``footdt.cohort.runners.draw_runner`` with ``CohortSpec(seed=--seed)``, rounded to
0.01 mm as ``footdt.cohort.generate`` does), meshes each at every ``--sizes`` element size and runs
the quality gate of the compile pass (``footdt.mesh.quality``, default limits). Also meshes the
reference template (265 x 100 x 40 mm) at 3 mm for its time and node count. Writes
benchmarks/results/template_variants.json (pass rate per size, min dihedral angle, nodes and mesh
time per variant) and prints a table. Usage:

    .venv/bin/python benchmarks/template_variants.py [--n 30] [--seed 0] [--sizes 5,3] [--jobs 1]

With ``--jobs 2`` two meshes run at once (faster sweep, noisier times); each mesh runs in its own
process either way.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write


def variants(n: int, seed: int) -> list[tuple[float, float, float]]:
    """(foot_length, foot_width, arch_height) in mm of the first ``n`` runners of a cohort."""
    from footdt.cohort.runners import draw_runner, strike_classes
    from footdt.cohort.spec import CohortSpec

    spec = CohortSpec(seed=seed, n_runners=n)
    classes = strike_classes(spec)
    out = []
    for i in range(n):
        r = draw_runner(spec, i, classes[i])
        out.append(
            (round(r.foot_length_mm, 2), round(r.foot_width_mm, 2), round(r.arch_height_mm, 2))
        )
    return out


def mesh_and_gate(foot: tuple[float, float, float], size: float) -> dict[str, Any]:
    """Mesh one foot at one size and run the quality gate; never raises."""
    from footdt.errors import MeshError
    from footdt.mesh.foot import mesh_foot
    from footdt.mesh.quality import check_quality, quality_report
    from footdt.spec.geometry import FootTemplate
    from footdt.spec.subject import MeshOptions

    length, width, arch = foot
    row: dict[str, Any] = {"foot_length": length, "foot_width": width, "arch_height": arch}
    row["size_mm"] = size
    t0 = time.perf_counter()
    try:
        geometry = FootTemplate(
            type="foot_template", foot_length=length, foot_width=width, arch_height=arch
        )
        mesh = mesh_foot(geometry, MeshOptions(size=size))
    except MeshError as exc:
        row.update(passed=False, error=str(exc), mesh_s=round(time.perf_counter() - t0, 2))
        return row
    row["mesh_s"] = round(time.perf_counter() - t0, 2)
    report = quality_report(mesh)
    worst = min(report.parts.items(), key=lambda kv: kv[1].min_dihedral_deg)
    row.update(
        nodes=len(mesh.nodes),
        elements=len(mesh.elements),
        min_dihedral_deg=round(report.overall.min_dihedral_deg, 3),
        worst_part=worst[0],
        slivers=report.overall.slivers,
        gamma_min=round(report.overall.gamma_min, 4),
    )
    try:
        check_quality(report)
        row["passed"] = True
    except MeshError as exc:
        row.update(passed=False, error=str(exc))
    return row


def summary(rows: list[dict[str, Any]], sizes: list[float]) -> dict[str, Any]:
    import numpy as np

    out: dict[str, Any] = {}
    for size in sizes:
        sel = [r for r in rows if r["size_mm"] == size]
        dih = np.array([r.get("min_dihedral_deg", np.nan) for r in sel])
        times = np.array([r["mesh_s"] for r in sel])
        out[f"{size:g}mm"] = {
            "variants": len(sel),
            "passed": sum(r["passed"] for r in sel),
            "pass_rate": round(sum(r["passed"] for r in sel) / max(len(sel), 1), 3),
            "min_dihedral_deg": {
                k: round(float(f(dih)), 3)
                for k, f in (("min", np.nanmin), ("median", np.nanmedian), ("max", np.nanmax))
            },
            "mesh_s": {"median": round(float(np.median(times)), 2), "max": float(times.max())},
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=30, help="number of variants")
    ap.add_argument("--seed", type=int, default=0, help="cohort seed")
    ap.add_argument("--sizes", default="5,3", help="element sizes in mm")
    ap.add_argument("--jobs", type=int, default=1, help="meshes run at once")
    ap.add_argument("--name", default="template_variants", help="results file name (no .json)")
    args = ap.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    feet = variants(args.n, args.seed)
    tasks = [(foot, size) for size in sizes for foot in feet]
    tasks.append(((265.0, 100.0, 40.0), 3.0))  # the reference template
    rows: list[dict[str, Any]] = []
    # a fresh process per mesh (max_tasks_per_child=1): gmsh state and memory never carry over
    with ProcessPoolExecutor(max_workers=args.jobs, max_tasks_per_child=1) as pool:
        futures = [pool.submit(mesh_and_gate, foot, size) for foot, size in tasks]
        for fut in futures:
            r = fut.result()
            rows.append(r)
            print(
                f"{r['foot_length']:7.2f} {r['foot_width']:7.2f} {r['arch_height']:6.2f} "
                f"{r['size_mm']:3.0f} mm  {'pass' if r['passed'] else 'FAIL'}  "
                f"min dihedral {r.get('min_dihedral_deg', float('nan')):6.2f} "
                f"({r.get('worst_part', '-')})  {r['mesh_s']:6.1f} s  {r.get('error', '')}",
                flush=True,
            )
    reference, rows = rows[-1], rows[:-1]
    payload = {
        "cohort": {"seed": args.seed, "n": args.n, "draw": "footdt.cohort.runners.draw_runner"},
        "sizes_mm": sizes,
        "summary": summary(rows, sizes),
        "reference_3mm": reference,
        "rows": rows,
    }
    path = write(args.name, payload)
    print(json.dumps(payload["summary"], indent=1))
    print(f"reference 3 mm: {reference.get('nodes')} nodes, {reference['mesh_s']} s")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
