"""``footdt shape build|info`` (statistical shape models) and ``footdt personalise`` (a subject's
foot: the template mesh morphed onto its shape, with a fit report, a VTU and a picture)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from footdt.cli.common import console, err_console, handle_errors, print_json
from footdt.errors import FootdtError

app = typer.Typer(no_args_is_help=True, add_completion=False)


def _progress(as_json: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console if as_json else console, transient=True)  # fmt: skip


@app.command("build")
@handle_errors
def build(
    source: Path = typer.Argument(..., help="A folder of foot scans (STL/PLY/OBJ/OFF/VTP) or a cohort folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Shape model file to write (.ssm, an npz)."),
    modes: int | None = typer.Option(None, "--modes", min=1, help="Modes to keep (default: by --variance)."),
    variance: float = typer.Option(0.999, "--variance", help="Keep modes up to this fraction of the variance."),
    scale: float = typer.Option(1.0, "--scale", help="Multiply scan coordinates by this to get mm."),
    side: str = typer.Option("right", "--side", help="right or left (left scans are mirrored)."),
    as_json: bool = typer.Option(False, "--json", help="Print the model's summary as JSON."),
) -> None:  # fmt: skip
    """PCA shape model (gias3) of corresponded feet: scans are put in correspondence first."""
    from footdt.shape.build import source_shapes
    from footdt.shape.ssm import build_ssm

    if side not in ("right", "left"):
        raise FootdtError(f"--side {side!r}: use right or left")
    with _progress(as_json) as prog:
        task = prog.add_task("corresponding feet", total=None)
        shapes, what = source_shapes(source, scale, side,
                                     lambda i, n, name: prog.update(task, completed=i, total=n, description=name))  # fmt: skip
    model = build_ssm(shapes, n_modes=modes, variance=variance, metadata={"source": what})
    model.save(out)
    _report(model, out, as_json)


@app.command("info")
@handle_errors
def info(
    model_file: str = typer.Argument("builtin", help="Shape model file, or 'builtin'."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG: variance explained and mode shapes."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:  # fmt: skip
    """Modes, variance explained and the measurement ranges of a shape model."""
    from footdt.shape.ssm import builtin_ssm, load_ssm

    if model_file == "builtin":
        with console.status("the built-in shape model (built once, then cached)"):
            model = builtin_ssm()
    else:
        model = load_ssm(model_file)
    if plot is not None:
        from footdt.shape.figures import plot_modes

        plot_modes(model, plot)
    _report(model, Path(model_file), as_json, plot)


def summary(model: Any) -> dict[str, Any]:
    from footdt.shape.measurements import population_summary

    ratio = model.explained_variance_ratio
    return {
        "modes": model.n_modes,
        "skin_points": model.n_skin,
        "landmarks": list(model.landmark_names),
        "variance_explained": [round(float(r), 6) for r in ratio],
        "mode_sd_rms_per_point_mm": [round(float(s / model.n_skin**0.5), 4) for s in model.sd],
        "measurements_mm": {
            k: {a: round(b, 2) for a, b in v.items()} for k, v in population_summary(model).items()
        },
        "metadata": model.metadata,
    }


def _report(model: Any, path: Path, as_json: bool, plot: Path | None = None) -> None:
    data = {"file": str(path), **summary(model), "plot": str(plot) if plot else None}
    if as_json:
        print_json(data)
        return
    table = Table(title=f"{path}: {model.n_modes} modes, {model.n_skin} skin points + "
                        f"{len(model.landmark_names)} landmarks, {model.scores.shape[0]} training feet")  # fmt: skip
    for col in ("mode", "variance %", "cumulative %", "SD (mm RMS per point)"):
        table.add_column(col, justify="right")
    cum = 0.0
    for i, (r, s) in enumerate(
        zip(data["variance_explained"], data["mode_sd_rms_per_point_mm"], strict=True)
    ):
        cum += r
        table.add_row(str(i + 1), f"{100 * r:.2f}", f"{100 * cum:.2f}", f"{s:.2f}")
    console.print(table)
    meas = Table(title="measurements the model knows (mm, over its training feet)")
    for col in ("name", "mean", "SD", "min", "max"):
        meas.add_column(col, justify="right" if col != "name" else "left")
    for name, v in data["measurements_mm"].items():
        meas.add_row(
            name, f"{v['mean']:.1f}", f"{v['sd']:.1f}", f"{v['min']:.1f}", f"{v['max']:.1f}"
        )
    console.print(meas)
    console.print("navicular_height is another name for arch_height", highlight=False)
    if plot:
        console.print(f"plot: {plot}", highlight=False)


@handle_errors
def personalise(
    spec: Path = typer.Argument(..., help="Subject spec with `geometry: {type: personalised, ...}`."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory (model, mesh.vtu, personalisation.json, fit.png)."),
    size: float | None = typer.Option(None, "--size", help="Element size in mm (overrides the spec)."),
    remesh: bool = typer.Option(False, "--remesh", help="Re-mesh the morphed surfaces with gmsh (new topology)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:  # fmt: skip
    """Personalise the template: shape model fit, FFD morph of its volume mesh, quality checks."""
    import warnings

    from footdt.compile import compile_spec
    from footdt.compile.mesh_geometry import mesh_geometry
    from footdt.ir import save_model
    from footdt.mesh.vtk import write_mesh_vtu
    from footdt.shape.figures import plot_fit
    from footdt.spec.geometry import Personalised
    from footdt.spec.loader import load_spec

    loaded = load_spec(spec).with_mesh(size)
    geometry = getattr(loaded.spec, "geometry", None)
    if not isinstance(geometry, Personalised):
        raise FootdtError(
            f"{loaded.source.where(('geometry',))}: geometry: type is "
            f"{getattr(geometry, 'type', '?')!r}; footdt personalise needs `type: personalised`"
        )
    if remesh:
        loaded = type(loaded)(loaded.spec.model_copy(update={"geometry": geometry.model_copy(update={"remesh": True})}),
                              loaded.source)  # fmt: skip
    with console.status(f"personalising {spec}"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mesh = mesh_geometry(loaded.spec, loaded.source)  # type: ignore[arg-type]
        model = compile_spec(loaded, mesh=mesh)
    for w in caught:
        err_console.print(f"[yellow]warning:[/] {w.message}", highlight=False)
    report = mesh.info["personalisation"]
    save_model(model, out)
    vtu = write_mesh_vtu(model, out / "mesh.vtu")
    (out / "personalisation.json").write_text(json.dumps(report, indent=1))
    done = mesh.personalisation
    png = plot_fit(done.distances, done.skin_points, done.target[0], out / "fit.png",
                   title=f"{model.subject}: morphed skin -> target")  # fmt: skip
    payload = {"subject": model.subject, "out": str(out), "nodes": model.n_nodes,
               "elements": model.n_elements, "vtu": str(vtu), "plot": str(png) if png else None,
               **report}  # fmt: skip
    if as_json:
        print_json(payload)
        return
    _print_personalisation(payload)


def _print_personalisation(p: dict[str, Any]) -> None:
    table = Table(
        title=f"{p['subject']}: personalised from {p['source']} with the {p['ssm']} shape model"
    )
    for col in ("measurement", "requested (mm)", "mesh (mm)", "error (mm)"):
        table.add_column(col, justify="right" if col != "measurement" else "left")
    for name, got in p["measured_mm"].items():
        want = p["requested_mm"].get(name)
        table.add_row(name, "" if want is None else f"{want:.2f}", f"{got:.2f}",
                      "" if want is None else f"{got - want:+.3f}")  # fmt: skip
    console.print(table)
    console.print(
        f"skin -> target: mean {p['skin_error_mean_mm']:.2f}, p95 {p['skin_error_p95_mm']:.2f}, max "
        f"{p['skin_error_max_mm']:.2f} mm (the template mesh's own skin vs its shape: p95 "
        f"{p['template_skin_p95_mm']:.2f} mm); worst element: min dihedral "
        f"{p['worst_min_dihedral_deg']:.2f}° in {p['worst_part']}; PC weights "
        + ", ".join(f"{w:+.2f}" for w in p["pc_weights"]),
        highlight=False,
    )
    console.print(f"{p['nodes']} nodes, {p['elements']} elements -> {p['out']} (model, {Path(p['vtu']).name}"
                  + (f", {Path(p['plot']).name}" if p["plot"] else "") + ", personalisation.json)",
                  highlight=False)  # fmt: skip


def register(root: typer.Typer) -> None:
    root.add_typer(
        app, name="shape", help="Statistical shape models of the foot: build and inspect."
    )
    root.command("personalise")(personalise)
