"""Morph the template volume mesh onto synthetic subject skins: time and quality per subject.

For each element size the reference template is meshed once (cached under build/bench/morph/),
then morphed onto ``--subjects`` seeded synthetic target skins: the template skin deformed by a
random anisotropic scale (SD 5 % length and width, 6 % height), random quadratic and cubic
polynomial fields (SD 2 mm per term) and a Gaussian bump (SD 1.5 mm, 40 mm wide) that no
polynomial lattice holds exactly. The target triangles are the template's skin triangles on
the deformed nodes. Two ways in:

* ``surface``: ``footdt.shape.morph.morph_to_surface`` (two-sided closest-point FFD fit, no
  correspondences), then ``morph_report`` and ``check_morph``;
* ``correspondence``: ``fit_ffd`` on the skin nodes and their known targets (what a shape
  model provides), then the same morph and report.

* ``personalise``: what ``footdt personalise`` and the compile pass do for a measurement-driven
  subject (``footdt.shape.personalise.personalise``): the built-in shape model fitted to foot
  length, width, arch height and ball girth of a runner drawn from the shape population
  (``draw_params(seed=100, i)``: not a training shape), the morph of the cached template mesh,
  the report and the quality gate. Timed end to end per subject, after one warm-up subject.

Per subject: fit, apply (``morph_mesh``) and report seconds; skin -> target distance; node error
against the generating field (bones included); quality and whether ``check_morph`` passes.
Target from issue 4: morphing < 1 s per subject at the paper's resolution. Usage:

    .venv/bin/python benchmarks/bench_morph.py [--sizes 3,2.5] [--subjects 50] [--modes personalise,surface,correspondence]
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "bench" / "morph"


def template_mesh(size: float, use_cache: bool) -> tuple[Any, float]:
    """The reference template meshed at ``size`` mm, from the cache if there (and its mesh s)."""
    from footdt.mesh.foot import mesh_foot
    from footdt.spec.geometry import FootTemplate
    from footdt.spec.subject import MeshOptions

    path = CACHE / f"template-{size:g}mm.pkl"
    if use_cache and path.exists():
        with path.open("rb") as fh:
            mesh = pickle.load(fh)
        return mesh, float(mesh.info["timings"]["total_s"])
    mesh = mesh_foot(FootTemplate(type="foot_template"), MeshOptions(size=size))
    CACHE.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pickle.dump(mesh, fh)
    return mesh, float(mesh.info["timings"]["total_s"])


def subject_field(mesh: Any, seed: int) -> Any:
    """A seeded smooth deformation x -> x' (mm) of the template's space."""
    rng = np.random.default_rng(seed)
    lo, hi = mesh.nodes.min(axis=0), mesh.nodes.max(axis=0)
    centre, half = (lo + hi) / 2, (hi - lo) / 2
    scale = 1.0 + rng.normal(0.0, [0.05, 0.05, 0.06])
    poly = rng.normal(0.0, 2.0, size=(7, 3))
    bump_at = lo + rng.uniform(0.2, 0.8, 3) * (hi - lo)
    bump = rng.normal(0.0, 1.5, 3)

    def field(x: np.ndarray) -> np.ndarray:
        u = (x - centre) / half
        terms = np.stack(
            [u[:, 0] ** 2, u[:, 1] ** 2, u[:, 2] ** 2, u[:, 0] * u[:, 1], u[:, 0] * u[:, 2],
             u[:, 1] * u[:, 2], u[:, 0] ** 3], axis=1,
        )  # fmt: skip
        gauss = np.exp(-np.sum((x - bump_at) ** 2, axis=1) / (2 * 20.0**2))
        return centre + (x - centre) * scale + terms @ poly + gauss[:, None] * bump

    return field


def run_subject(
    mesh: Any, skin: np.ndarray, tri: np.ndarray, seed: int, mode: str
) -> dict[str, Any]:
    from footdt.errors import MeshError
    from footdt.shape.distance import TriangleSurface
    from footdt.shape.ffd import fit_ffd
    from footdt.shape.morph import check_morph, morph_mesh, morph_report, morph_to_surface

    field = subject_field(mesh, seed)
    target_points = field(mesh.nodes[skin])
    target = TriangleSurface(target_points, tri)
    t0 = time.perf_counter()
    if mode == "surface":
        morphed, fit = morph_to_surface(mesh, target)  # fit + apply
        t_fit = fit_s = time.perf_counter() - t0
        iterations = fit.iterations
        t1 = time.perf_counter()
        morph_mesh(mesh, fit.lattice)  # the apply step alone, for its own time
        apply_s = time.perf_counter() - t1
        fit_s = t_fit - apply_s
    else:
        box = (mesh.nodes.min(axis=0) - 10.0, mesh.nodes.max(axis=0) + 10.0)
        lattice = fit_ffd(mesh.nodes[skin], target_points, (8, 5, 5), smoothing=1e-5, box=box)
        fit_s = time.perf_counter() - t0
        iterations = 1
        t1 = time.perf_counter()
        morphed = morph_mesh(mesh, lattice)
        apply_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    report = morph_report(mesh, morphed, target)
    try:
        check_morph(report)
        refused = ""
    except MeshError as exc:
        refused = str(exc)
    report_s = time.perf_counter() - t2
    bones = np.unique(
        mesh.elements[np.concatenate([v for k, v in mesh.parts.items() if k != "soft_tissue"])]
    )
    node_error = np.linalg.norm(morphed.nodes - field(mesh.nodes), axis=1)
    return {
        "seed": seed,
        "fit_s": fit_s,
        "apply_s": apply_s,
        "report_s": report_s,
        "total_s": fit_s + apply_s + report_s,
        "iterations": iterations,
        "skin_mean_mm": report.skin.mean,
        "skin_p95_mm": report.skin.p95,
        "skin_max_mm": report.skin.max,
        "target_shift_max_mm": float(
            np.linalg.norm(target_points - mesh.nodes[skin], axis=1).max()
        ),
        "bone_node_error_mean_mm": float(node_error[bones].mean()),
        "bone_node_error_max_mm": float(node_error[bones].max()),
        "inverted": report.quality.overall.inverted,
        "min_dihedral_deg": report.quality.overall.min_dihedral_deg,
        "bone_volume_change_pct": {
            k: round(v, 3) for k, v in report.volume_change_pct.items() if k != "soft_tissue"
        },
        "check_morph": refused or "passed",
    }


def run_personalise(size: float, index: int) -> dict[str, Any]:
    """One measurement-driven personalisation (see module doc), timed end to end."""
    from footdt.shape.measure import measure
    from footdt.shape.measurements import shape_skin
    from footdt.shape.personalise import personalise
    from footdt.shape.population import draw_params, foot_shape
    from footdt.spec.geometry import Personalised
    from footdt.spec.subject import MeshOptions

    truth = measure(shape_skin(foot_shape(draw_params(100, index))))
    names = ("foot_length", "foot_width", "arch_height", "ball_girth")
    geometry = Personalised(
        type="personalised", measurements={k: round(truth[k], 2) for k in names}
    )
    from footdt.errors import FootdtError

    t0 = time.perf_counter()
    try:
        _, rep = personalise(geometry, MeshOptions(size=size))
    except FootdtError as exc:
        return {"seed": index, "total_s": time.perf_counter() - t0, "check_morph": str(exc),
                "measurements_mm": geometry.measurements}  # fmt: skip
    total = time.perf_counter() - t0
    err = rep.errors()
    return {
        "seed": index, "total_s": total, **{f"{k}_s": v for k, v in rep.seconds.items()},
        "fit_s": rep.seconds["shape_model"], "apply_s": 0.0, "report_s": 0.0, "iterations": 1,
        "skin_mean_mm": rep.skin.mean, "skin_p95_mm": rep.skin.p95, "skin_max_mm": rep.skin.max,
        "target_shift_max_mm": 0.0, "bone_node_error_mean_mm": 0.0, "bone_node_error_max_mm": 0.0,
        "max_abs_measurement_error_mm": max(abs(v) for v in err.values()),
        "measurement_error_mm": {k: round(v, 3) for k, v in err.items()},
        "inverted": 0, "min_dihedral_deg": rep.min_dihedral_deg, "ffd_smoothing": rep.smoothing,
        "check_morph": "passed",
    }  # fmt: skip


def summarise(all_rows: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for r in all_rows if r["check_morph"] == "passed"] or all_rows[:0]
    if not rows:
        return {"check_morph_passed": 0, "refused": [r["check_morph"][:200] for r in all_rows]}

    def stat(key: str) -> dict[str, float]:
        v = np.array([r[key] for r in rows], dtype=float)
        return {"mean": round(float(v.mean()), 4), "max": round(float(v.max()), 4)}

    keys = ["fit_s", "apply_s", "report_s", "total_s", "iterations", "skin_mean_mm",
            "skin_p95_mm", "skin_max_mm", "target_shift_max_mm", "bone_node_error_mean_mm",
            "bone_node_error_max_mm"]  # fmt: skip
    out: dict[str, Any] = {k: stat(k) for k in keys}
    out["min_dihedral_deg_min"] = round(min(r["min_dihedral_deg"] for r in rows), 3)
    out["inverted_total"] = int(sum(r["inverted"] for r in rows))
    out["check_morph_passed"] = len(rows)
    out["refused"] = [r["check_morph"][:200] for r in all_rows if r["check_morph"] != "passed"]
    out["under_1s"] = sum(r["total_s"] < 1.0 for r in rows)
    if "max_abs_measurement_error_mm" in rows[0]:
        out["max_abs_measurement_error_mm"] = round(
            max(r["max_abs_measurement_error_mm"] for r in rows), 4
        )
        out["max_abs_error_per_measurement_mm"] = {
            k: round(max(abs(r["measurement_error_mm"][k]) for r in rows), 3)
            for k in rows[0]["measurement_error_mm"]
        }
        out["fit_morph_check_s"] = stat("fit_morph_check_s")
        out["ffd_smoothing_counts"] = {
            f"{v:g}": sum(r["ffd_smoothing"] == v for r in rows)
            for v in sorted({r["ffd_smoothing"] for r in rows})
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="3,2.5", help="template element sizes in mm")
    ap.add_argument("--subjects", type=int, default=50)
    ap.add_argument("--modes", default="personalise,correspondence,surface")
    ap.add_argument("--no-cache", action="store_true", help="re-mesh the template")
    args = ap.parse_args()
    from footdt.mesh.quality import quality_report
    from footdt.shape.morph import skin_surface

    results = []
    for size in [float(s) for s in args.sizes.split(",")]:
        mesh, mesh_s = template_mesh(size, not args.no_cache)
        skin, tri = skin_surface(mesh)
        entry: dict[str, Any] = {
            "size_mm": size,
            "nodes": len(mesh.nodes),
            "elements": len(mesh.elements),
            "skin_nodes": len(skin),
            "skin_triangles": len(tri),
            "template_mesh_s": round(mesh_s, 2),
            "template_min_dihedral_deg": round(quality_report(mesh).overall.min_dihedral_deg, 3),
            "modes": {},
        }
        for mode in args.modes.split(","):
            rows = []
            if mode == "personalise":
                run_personalise(size, -1 % 1000)  # warm-up: shape model and template mesh caches
            for seed in range(args.subjects):
                if mode == "personalise":
                    rows.append(run_personalise(size, seed))
                else:
                    rows.append(run_subject(mesh, skin, tri, seed, mode))
                r = rows[-1]
                head = f"{size:4.1f} mm {mode:14s} #{seed:02d} "
                if r["check_morph"] != "passed" and mode == "personalise":
                    print(f"{head} REFUSED {r['check_morph'][:160]}", flush=True)
                    continue
                if mode == "personalise":
                    head += (f"total {r['total_s']:.2f} s (fit+morph+check {r['fit_morph_check_s']:.2f} s)"
                             f" | max measurement error {r['max_abs_measurement_error_mm']:.3f} mm"
                             f" | smoothing {r['ffd_smoothing']:g}")  # fmt: skip
                else:
                    head += (f"fit {r['fit_s']:.2f} s apply {r['apply_s']:.2f} s report "
                             f"{r['report_s']:.2f} s | bone err max {r['bone_node_error_max_mm']:.2f} mm")  # fmt: skip
                print(
                    f"{head} | skin mean {r['skin_mean_mm']:.3f} p95 {r['skin_p95_mm']:.3f} max "
                    f"{r['skin_max_mm']:.3f} mm | min dihedral {r['min_dihedral_deg']:.2f}° | "
                    f"{r['check_morph'][:60]}",
                    flush=True,
                )
            entry["modes"][mode] = {"summary": summarise(rows), "subjects": rows}
            s = entry["modes"][mode]["summary"]
            print(
                f"{size:4.1f} mm {mode}: total mean {s['total_s']['mean']:.2f} s max "
                f"{s['total_s']['max']:.2f} s; skin p95 mean {s['skin_p95_mm']['mean']:.3f} mm; "
                f"check_morph passed {s['check_morph_passed']}/{len(rows)}",
                flush=True,
            )
        results.append(entry)
    path = write(
        "morph",
        {
            "what": "template volume mesh morphed onto synthetic subject skins (FFD), per subject",
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "results": results,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
