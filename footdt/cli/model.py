"""``footdt validate | schema | compile | solve``: from spec files to a model, decks and labels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from footdt.cli.common import console, fail, handle_errors, print_json, print_plain
from footdt.domain import MAX
from footdt.errors import FootdtError, SpecError

if TYPE_CHECKING:
    from footdt.ir import AnalysisModel


def validate(
    files: list[Path] = typer.Argument(
        ..., help="Spec files (YAML/TOML) or solver profiles (solvers/*.toml)."
    ),
    deep: bool = typer.Option(
        False, "--compile", help="Also mesh and compile subject specs (checks names)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
) -> None:
    """Check spec files: schema, units, references. Errors read `file:line: field: message`."""
    from rich.text import Text

    from footdt.cli.common import print_error
    from footdt.spec.validate import validate_file

    results = []
    for f in files:
        try:
            results.append(validate_file(f, deep=deep))
        except FootdtError as exc:
            results.append({"file": str(f), "ok": False, "error": str(exc)})
        except MemoryError:
            results.append({"file": str(f), "ok": False, "error": f"{f}: out of memory"})
    if as_json:
        print_json(results)
    else:
        for r in results:
            if r["ok"]:
                line = Text.assemble(("ok", "green"), f"    {r['file']} ({r['kind']} '{r['id']}')")
                console.print(line, highlight=False, soft_wrap=True)
            else:
                print_error(r["error"])
    if not all(r["ok"] for r in results):
        raise typer.Exit(2)


@handle_errors
def schema(
    out: Path | None = typer.Option(
        None, "--out", help="Write the JSON Schema here (default stdout)."
    ),
) -> None:
    """JSON Schema of the spec language (point your editor's YAML plugin at it)."""
    from footdt.spec.schema import spec_json_schema

    text = json.dumps(spec_json_schema(), indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
        print_plain(f"wrote {out}")


#: Free space (bytes) a solve's work directory needs before the solve starts.
MIN_FREE_BYTES = 16 << 20


def check_writable_dir(d: Path, what: str) -> None:
    """Refuse, before any work, a directory that cannot be created or written, or whose disk
    is (nearly) full; ``what`` names the option that chose it."""
    import shutil
    import tempfile

    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=d):
            pass
        free = shutil.disk_usage(d).free
    except OSError as exc:
        raise FootdtError(
            f"cannot write to {d} ({exc.strerror or exc}): {_disk_advice(exc, what)}"
        ) from None
    if free < MIN_FREE_BYTES:
        raise FootdtError(f"the disk holding {d} is full ({free // 1024} kB free): free space, or "
                          f"choose another place ({what})")  # fmt: skip


def _disk_advice(exc: OSError, what: str) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        return f"the disk is full: free space, or choose another place ({what})"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"it is read-only: choose a writable place ({what})"
    return f"check the path ({what})"


@contextmanager
def disk_errors(wd: Path, what: str = "--workdir") -> Iterator[None]:
    """An OSError while solving or writing results (a full disk...) as a one-line error."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or wd
        raise FootdtError(
            f"cannot write {where} ({exc.strerror or exc}): {_disk_advice(exc, what)}"
        ) from None


def _model_from(source: Path) -> AnalysisModel:
    """A compiled model directory, or a spec file compiled on the fly."""
    from footdt.ir import is_model_dir, load_model

    if source.is_dir():
        if not is_model_dir(source):
            from footdt.errors import ModelDirError

            raise ModelDirError(
                f"{source}: not a compiled model directory (no model.json); run `footdt compile`"
            )
        return load_model(source)
    from footdt.compile import compile_spec
    from footdt.spec.loader import load_spec

    return compile_spec(load_spec(source))


@handle_errors
def compile_cmd(
    spec: Path = typer.Argument(..., help="Subject spec file."),
    backend: str = typer.Option(
        "sfepy", "--backend", "-b", help="sfepy (the default of every command) | calculix | abaqus"
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output directory (model.json, arrays.npz, deck)."
    ),
) -> None:
    """Compile a spec to the solver-neutral model and, for deck backends, an input deck."""
    from footdt.backends import get_backend
    from footdt.errors import UnsupportedFeature
    from footdt.ir import save_model

    be = get_backend(backend)
    model = _model_from(spec)
    reasons = be.unsupported(model)
    if reasons:
        raise UnsupportedFeature("; ".join(reasons))
    check_writable_dir(out, "--out")
    removed = []
    with disk_errors(out, "--out"):
        save_model(model, out)
        written = [out / "model.json", out / "arrays.npz"]
        if be.writes_inputs:
            from footdt.backends.inp import compile_deck, stale_deck_files

            removed = stale_deck_files(out, backend)
            written += list(compile_deck(model, out, backend).values())
    from rich.text import Text

    console.print(  # paths and ids as they are: `build/x [/]` is a path, not markup
        Text.assemble("compiled ", (model.subject, "bold"),
                      f": {model.n_nodes} nodes, {model.n_elements} {model.cell_type} elements, "
                      f"{len(model.parts)} parts, {len(model.phases)} phases -> {out}"),
        highlight=False, soft_wrap=True,
    )  # fmt: skip
    for w in written:
        print_plain(f"  {w}")
    for r in removed:
        print_plain(
            f"  removed {r}: it belonged to the Abaqus deck that {out / 'footdt.inp'} replaces"
        )


@handle_errors
def solve(
    source: Path = typer.Argument(..., help="Subject spec file or compiled model directory."),
    backend: str = typer.Option(
        "sfepy", "--backend", "-b", help="sfepy | native | calculix | abaqus"
    ),
    store: str = typer.Option(
        "labels.db", "--store", "-s", help="Label store: SQLite path or SQLAlchemy URL."
    ),
    profile: Path | None = typer.Option(
        None, "--profile", help="Solver profile TOML (solvers/*.toml)."
    ),
    workdir: Path | None = typer.Option(
        None, "--workdir", help="Where solver files go (default build/SUBJECT/BACKEND)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the stored labels as JSON."),
) -> None:
    """Solve every phase with one backend and put the per-part labels into the store."""
    from footdt.backends import get_backend
    from footdt.labels import LabelStore, store_result
    from footdt.spec.profile import default_profile, load_profile

    be = get_backend(backend)
    prof = load_profile(profile) if profile else default_profile(backend)
    if prof.backend != backend:
        raise SpecError(f"{profile}: profile is for backend '{prof.backend}', not '{backend}'")
    LabelStore(store).close()  # a bad, read-only or full store fails now, not after a long solve
    model = _model_from(source)
    wd = workdir or (
        source / backend if source.is_dir() else Path("build") / model.subject / backend
    )
    out_dir = source if source.is_dir() else wd
    for d in dict.fromkeys((wd, out_dir)):
        check_writable_dir(d, "--workdir" if d == wd else "the model directory")
    from rich.markup import escape

    from footdt.results import save_result, write_paraview

    with disk_errors(wd):
        with console.status(
            escape(f"solving {model.subject} with {backend} ({model.n_nodes} nodes, "
                   f"{len(model.phases)} phases)")
        ):  # fmt: skip
            result = be.solve(model, wd, prof)
        rows = store_result(store, result, model)
        npz = save_result(result, out_dir)
        pvd, *vtus = write_paraview(model, result, out_dir)
    if as_json:
        print_json([r.as_dict() for r in rows])
        return
    from rich.table import Table

    table = Table(
        title=escape(
            f"{model.subject} / {backend} {result.backend_version}  ({result.wall_time:.1f} s)"
        )
    )
    for col in ("phase", "part", "stat", "von Mises (MPa)", "flag"):
        table.add_column(col)
    for r in rows:
        flag = "max on load/BC" if (r.stat == MAX and r.max_on_boundary) else ""
        table.add_row(r.phase, r.bone, r.stat, f"{r.value_mpa:.6g}", flag)
    console.print(table)
    res = result.max_residual
    print_plain(
        f"stored {len(rows)} labels in {store}"
        + (f"; max residual {res:.1e}" if res is not None else "")
    )
    print_plain(f"results: {npz}")
    print_plain(
        f"ParaView: {pvd} ({len(vtus)} phase{'s' if len(vtus) != 1 else ''} as time steps; "
        "one .vtu per phase beside it)"
    )


@handle_errors
def view(
    model_dir: Path = typer.Argument(..., help="Compiled model directory that has been solved."),
    phase: str = typer.Option(..., "--phase", help="Phase to draw."),
    out: Path = typer.Option(
        Path("stress.png"), "--out", "-o", help="Picture to write (.png, .pdf, .svg, ...)."
    ),
    backend: str = typer.Option("sfepy", "--backend", "-b", help="Whose results to draw."),
    parts: list[str] = typer.Option(
        [], "--part", help="Parts to draw (default: all but soft tissue)."
    ),
) -> None:
    """Draw the von Mises field of one phase to a picture (four views, soft tissue as a ghost).

    For ParaView, open the BACKEND.pvd that `footdt solve` writes (one .vtu per phase)."""
    from footdt.ir import load_model
    from footdt.results import load_result
    from footdt.view import check_image_path, render_stress

    check_image_path(out)
    model = load_model(model_dir)
    result = load_result(model_dir, backend)
    if result.model_hash and result.model_hash != model.content_hash():
        raise SpecError(
            f"{model_dir}: results.{backend}.npz belong to another version of the model; solve again"
        )
    path = render_stress(model, result, phase, out, parts or None)
    print_plain(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("schema")(schema)
    app.command("compile")(compile_cmd)
    app.command("solve")(solve)
    app.command("view")(view)


__all__ = ["fail", "register"]
