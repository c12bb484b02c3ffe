"""``footdt demo``: the main job on built-in defaults.

Until the foot model lands, the demo runs the verification specs through every open backend,
checks them against closed-form answers, and compares the backends on the same meshes.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from footdt.cli.common import console, handle_errors

VERIFICATION = ("bar_compression", "cantilever", "lame_cylinder", "two_material_block")


def _spec_dir() -> Path:
    here = Path(__file__).resolve().parents[2] / "specs" / "verification"
    return here if here.is_dir() else Path("specs/verification")


@handle_errors
def demo(
    out: Path = typer.Option(Path("build/demo"), "--out", help="Output directory."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run the built-in demo (today: the verification cases on SfePy and CalculiX)."""
    from footdt.backends import get_backend
    from footdt.compile import compile_spec
    from footdt.ir import save_model
    from footdt.labels import LabelStore, store_result
    from footdt.labels.compare import compare
    from footdt.spec.loader import load_spec
    from footdt.verify import CASES, verify

    console.print(
        "[bold]footdt demo[/]: the foot model is not in this release yet, so the demo runs the "
        "verification cases (specs/verification) on the open backends.",
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
    summary: dict[str, list[dict[str, object]]] = {"checks": [], "solves": []}
    table = Table(title="closed-form checks")
    for col in ("case", "backend", "quantity", "expected", "footdt", "error"):
        table.add_column(col)
    for case in VERIFICATION:
        loaded = load_spec(_spec_dir() / f"{case}.yaml")
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
                    summary["checks"].append(
                        {**check.__dict__, "backend": name, "rel_error": check.rel_error}
                    )
                    table.add_row(
                        case,
                        name,
                        check.quantity,
                        f"{check.expected:.6g}",
                        f"{check.measured:.6g}",
                        f"{100 * check.rel_error:.3f} %",
                    )
    comparison = None
    if len(backends) == 2:
        with LabelStore(store_url) as store:
            comparison = compare(
                store,
                "sfepy",
                "calculix",
                rtol={"mean": 0.005, "p95": 0.02, "p99": 0.02, "max": 0.05},
            )
    (out / "summary.json").write_text(
        json.dumps({**summary, "comparison_ok": comparison.ok if comparison else None}, indent=1)
    )
    if as_json:
        typer.echo(
            json.dumps(
                {**summary, "comparison_ok": comparison.ok if comparison else None}, indent=1
            )
        )
        return
    console.print(table)
    if comparison is not None:
        worst = max(comparison.rows, key=lambda r: r.rel_diff)
        console.print(
            f"SfePy vs CalculiX on the same meshes: {len(comparison.rows)} labels compared, "
            f"largest difference {100 * worst.rel_diff:.3f} % ({worst.key}); "
            + ("[green]all within tolerance[/]" if comparison.ok else "[red]outside tolerance[/]")
        )
    console.print(f"labels: {store_url}   summary: {out / 'summary.json'}")
