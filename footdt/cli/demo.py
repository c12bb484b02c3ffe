"""``footdt demo``: the main job on built-in defaults.

Today the demo (1) checks every open backend against closed-form answers on the verification
specs and compares SfePy with CalculiX on the same meshes, then (2) builds the built-in foot model
(specs/subjects/template.yaml), solves its three phases with SfePy, prints the paper's 28 targets
and draws the push-off stress field. The cohort -> training -> report chain joins it when the
twin work lands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from footdt.cli.common import console, handle_errors

VERIFICATION = ("bar_compression", "cantilever", "lame_cylinder", "two_material_block")
SPECS = Path(__file__).resolve().parents[2] / "specs"


def _verification(out: Path, store_url: str, backends: list[str], summary: dict[str, Any]) -> Table:
    from footdt.backends import get_backend
    from footdt.compile import compile_spec
    from footdt.ir import save_model
    from footdt.labels import store_result
    from footdt.spec.loader import load_spec
    from footdt.verify import CASES, verify

    table = Table(title="1. closed-form checks")
    for col in ("case", "backend", "quantity", "expected", "footdt", "error"):
        table.add_column(col)
    for case in VERIFICATION:
        loaded = load_spec(SPECS / "verification" / f"{case}.yaml")
        with console.status(f"meshing {case}"):
            model = compile_spec(loaded)
        save_model(model, out / case)
        for name in backends:
            reasons = get_backend(name).unsupported(model)
            if reasons:
                console.print(f"[yellow]skipped[/] {case} on {name}: {reasons[0]}", highlight=False)
                continue
            with console.status(f"solving {case} with {name} ({model.n_nodes} nodes)"):
                result = get_backend(name).solve(model, out / case / name)
            store_result(store_url, result, model)
            summary["solves"].append(
                {
                    "case": case,
                    "backend": name,
                    "nodes": model.n_nodes,
                    "wall_time_s": round(result.wall_time, 3),
                }
            )
            if case in CASES:
                for check in verify(loaded.spec, model, result):  # type: ignore[arg-type]
                    summary["checks"].append({**check.__dict__, "backend": name})
                    table.add_row(
                        case,
                        name,
                        check.quantity,
                        f"{check.expected:.6g}",
                        f"{check.measured:.6g}",
                        f"{100 * check.rel_error:.3f} %",
                    )
    return table


def _foot(out: Path, store_url: str, size: float, summary: dict[str, Any]) -> Table:
    from footdt.backends import get_backend
    from footdt.compile import compile_spec
    from footdt.domain import PAPER_TARGETS, PHASES
    from footdt.ir import save_model
    from footdt.labels import store_result
    from footdt.results import save_result, write_vtu
    from footdt.spec.loader import load_spec
    from footdt.view import render_stress

    loaded = load_spec(SPECS / "subjects" / "template.yaml").with_mesh(size)
    with console.status(f"meshing the foot template at {size:g} mm"):
        model = compile_spec(loaded)
    d = out / "foot"
    save_model(model, d)
    with console.status(f"solving the foot ({model.n_nodes} nodes, 3 phases) with sfepy"):
        result = get_backend("sfepy").solve(model, d / "sfepy")
    rows = store_result(store_url, result, model)
    save_result(result, d)
    vtus = write_vtu(model, result, d)
    png = render_stress(model, result, "push_off", out / "foot_push_off.png")
    value = {(r.phase, r.bone, r.stat): r.value_mpa for r in rows}
    summary["foot"] = {
        "nodes": model.n_nodes,
        "elements": model.n_elements,
        "solve_s": round(result.wall_time, 2),
        "picture": str(png),
        "vtu": [str(v) for v in vtus],
        "targets": {
            f"{p}.{b}.{k}": value[(p, b, "mean" if k == "mean" else "p99")]
            for p, b, k in PAPER_TARGETS
        },
    }
    table = Table(
        title=f"2. foot template ({model.n_nodes} nodes, {size:g} mm): von Mises, MPa "
        "(mean / p99 as the peak)"
    )
    table.add_column("bone")
    for phase in PHASES:
        table.add_column(phase, justify="right")
    bones = dict.fromkeys(b for _, b, _ in PAPER_TARGETS)
    for bone in bones:
        cells = []
        for phase in PHASES:
            if (phase, bone, "mean") in {(p, b, k) for p, b, k in PAPER_TARGETS}:
                cells.append(
                    f"{value[(phase, bone, 'mean')]:.2f} / {value[(phase, bone, 'p99')]:.1f}"
                )
            else:
                cells.append("")
        table.add_row(bone, *cells)
    return table


@handle_errors
def demo(
    out: Path = typer.Option(Path("build/demo"), "--out", help="Output directory."),
    size: float = typer.Option(5.0, "--size", help="Element size (mm) of the foot model."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run the built-in demo: backends against closed forms, then the foot model's 28 targets."""
    from footdt.backends import get_backend
    from footdt.labels import LabelStore
    from footdt.labels.compare import compare

    console.print(
        "[bold]footdt demo[/]: (1) verification cases on the open backends, (2) the built-in foot "
        "model solved with SfePy. The cohort, training and twin stages are not in this release yet.",
        highlight=False,
    )
    out.mkdir(parents=True, exist_ok=True)
    store_url = str(out / "labels.db")
    backends = ["sfepy"]
    ccx = get_backend("calculix")
    if ccx.availability():
        backends.append("calculix")
    else:
        console.print(f"[yellow]CalculiX skipped[/]: {ccx.availability().reason}")
    summary: dict[str, Any] = {"checks": [], "solves": []}
    checks = _verification(out, store_url, backends, summary)
    comparison = None
    if len(backends) == 2:
        with LabelStore(store_url) as store:
            comparison = compare(
                store,
                "sfepy",
                "calculix",
                subject=VERIFICATION,
                rtol={"mean": 0.005, "p95": 0.02, "p99": 0.02, "max": 0.05},
            )
        summary["comparison_ok"] = comparison.ok
    foot = _foot(out, store_url, size, summary)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    if as_json:
        typer.echo(json.dumps(summary, indent=1, default=str))
        return
    console.print(checks)
    if comparison is not None:
        worst = max(comparison.rows, key=lambda r: r.rel_diff)
        console.print(
            f"SfePy vs CalculiX on the same meshes: {len(comparison.rows)} labels compared, largest "
            f"difference {100 * worst.rel_diff:.4f} % ({worst.key}); "
            + ("[green]all within tolerance[/]" if comparison.ok else "[red]outside tolerance[/]")
        )
    console.print(foot)
    console.print(
        f"picture: {summary['foot']['picture']}   ParaView: {out / 'foot'}/sfepy.*.vtu   "
        f"labels: {store_url}   summary: {out / 'summary.json'}",
        highlight=False,
    )
