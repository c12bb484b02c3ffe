"""``footdt mesh``: mesh a spec, print the quality report, write the model and a VTU of the parts;
``--convergence 5,4,3,2`` solves at each size and tabulates per-bone mean and p99 stress."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from footdt.cli.common import console, handle_errors, print_json


def _parse_sizes(text: str) -> list[float]:
    try:
        sizes = [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: give element sizes in mm separated by commas, e.g. 5,4,3"
        ) from None
    if not sizes or min(sizes) <= 0:
        raise typer.BadParameter("element sizes must be positive (mm)")
    return sizes


@handle_errors
def mesh(
    spec: Path = typer.Argument(..., help="Subject spec file."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output directory (model, mesh.vtu, quality.json)."
    ),
    size: float | None = typer.Option(
        None, "--size", help="Element size in mm (overrides the spec)."
    ),
    order: int | None = typer.Option(None, "--order", help="1 = linear tets, 2 = quadratic."),
    convergence: str | None = typer.Option(
        None,
        "--convergence",
        help="Sizes in mm, e.g. 5,4,3,2: solve at each and tabulate per-bone stress.",
    ),
    backend: str = typer.Option("sfepy", "--backend", "-b", help="Backend for --convergence."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the quality report (or the study) as JSON."
    ),
) -> None:
    """Mesh a spec and check element quality; optionally run a mesh-convergence study."""
    from footdt.compile import compile_spec
    from footdt.compile.mesh_geometry import mesh_geometry
    from footdt.ir import save_model
    from footdt.spec.loader import load_spec

    loaded = load_spec(spec)
    if convergence:
        from footdt.mesh.convergence import convergence_study

        study = convergence_study(loaded, _parse_sizes(convergence), backend, out, progress=console)
        if as_json:
            print_json(study.as_dict())
        else:
            console.print(study.table())
            console.print(f"table: {study.csv_path}   plot: {study.png_path}")
        return
    loaded = loaded.with_mesh(size, order)
    with console.status(f"meshing {spec}"):
        volume_mesh = mesh_geometry(loaded.spec, loaded.source)  # type: ignore[arg-type]
        model = compile_spec(loaded, mesh=volume_mesh)
    save_model(model, out)
    from footdt.mesh.vtk import write_mesh_vtu

    vtu = write_mesh_vtu(model, out / "mesh.vtu")
    quality = volume_mesh.info["quality"]
    (out / "quality.json").write_text(json.dumps(quality, indent=1))
    if as_json:
        print_json(
            {
                "nodes": model.n_nodes,
                "elements": model.n_elements,
                "quality": quality,
                "timings": {k: v for k, v in volume_mesh.info.items() if k.endswith("_s")},
            }
        )
        return
    typer.echo(volume_mesh.quality.format_table())
    console.print(
        f"{model.n_nodes} nodes, {model.n_elements} {model.cell_type} elements, {len(model.parts)} parts; "
        f"quality gate passed -> {out} ({vtu.name}: part ids for ParaView)",
        highlight=False,
    )
