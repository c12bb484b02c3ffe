"""``footdt labels``: show, compare, import, export and describe stress labels in a label store.

Every command takes ``--json``; label rows print as a list of objects with subject, trial, phase,
bone, stat, value_mpa, backend and the provenance fields (``LabelRow`` field order). Stresses are
in MPa.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from footdt.cli.common import console, fail, handle_errors, print_json, print_plain
from footdt.domain import MAX

if TYPE_CHECKING:
    from footdt.labels.compare import Comparison
    from footdt.labels.reduce import LabelRow

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

STORE_HELP = "Label store: a SQLite file path or a SQLAlchemy URL."
StoreOpt = typer.Option("labels.db", "--store", "-s", envvar="FOOTDT_STORE", help=STORE_HELP)
JsonOpt = typer.Option(False, "--json", help="Print JSON (stable keys) instead of a table.")
#: Rows ``labels show`` prints in a table unless --limit says otherwise.
SHOW_LIMIT = 50


def _filters(**given: list[str] | None) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v}


def _rows_table(rows: list[LabelRow], title: str) -> None:
    """Rich table of label rows (provenance beyond the backend is in ``--json``)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    names = ("subject", "trial", "phase", "bone", "stat", "MPa", "backend", "max@bc")
    for name in names:
        table.add_column(name, justify="right" if name == "MPa" else "left", overflow="fold")
    for r in rows:
        flag = ("yes" if r.max_on_boundary else "no") if r.stat == MAX else ""
        cells = (r.subject, r.trial, r.phase, r.bone, r.stat, f"{r.value_mpa:.4g}", r.backend, flag)
        table.add_row(*cells)
    console.print(table)


@app.command()
@handle_errors
def show(
    store: str = StoreOpt,
    as_json: bool = JsonOpt,
    subject: list[str] | None = typer.Option(
        None, "--subject", help="Only these subjects (repeatable)."
    ),
    trial: list[str] | None = typer.Option(None, "--trial", help="Only these trials."),
    phase: list[str] | None = typer.Option(None, "--phase", help="Only these phases."),
    bone: list[str] | None = typer.Option(None, "--bone", help="Only these bones (parts)."),
    stat: list[str] | None = typer.Option(
        None, "--stat", help="Only these statistics (mean, p95, p99, max)."
    ),
    backend: list[str] | None = typer.Option(None, "--backend", help="Only these backends."),
    limit: int | None = typer.Option(
        None, "--limit", min=0,
        help=f"Show at most N rows, 0 for all (default: {SHOW_LIMIT} in the table, all with --json).",
    ),
) -> None:  # fmt: skip
    """Show label rows (von Mises statistics in MPa)."""
    from footdt.labels.store import LabelStore

    filters = _filters(
        subject=subject, trial=trial, phase=phase, bone=bone, stat=stat, backend=backend
    )
    n = limit if limit is not None else (0 if as_json else SHOW_LIMIT)
    with LabelStore(store, create=False) as st:
        rows = st.first(n or None, **filters)
        total = st.count(**filters) if n and len(rows) == n else len(rows)
    if as_json:
        print_json([r.to_dict() for r in rows])
    elif rows:
        shown = f"{len(rows)} of {total}" if total > len(rows) else f"{total}"
        _rows_table(rows, f"{shown} labels in {store}")
        if total > len(rows):
            console.print(f"... {total - len(rows)} more: --limit N shows N rows, --limit 0 all, "
                          "or filter (--subject, --phase, --bone, --stat)", highlight=False)  # fmt: skip
    else:
        console.print(f"no labels in {store} match the filters")


def _parse_rtol(rtol: float, per_stat: list[str] | None) -> dict[str, float]:
    tols = {"default": rtol}
    for item in per_stat or []:
        name, sep, value = item.partition("=")
        try:
            tols[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip() or tols[name.strip()] < 0:
            raise typer.BadParameter(
                f"{item!r}: expected STAT=RTOL such as p99=0.02", param_hint="--rtol-stat"
            )
    if rtol < 0:
        raise typer.BadParameter(f"{rtol} is negative", param_hint="--rtol")
    return tols


@app.command("compare")
@handle_errors
def compare_cmd(
    backend_a: str = typer.Argument(..., metavar="A", help="Backend to check."),
    backend_b: str = typer.Argument(..., metavar="B", help="Reference backend."),
    store: str = StoreOpt,
    rtol: float = typer.Option(0.01, "--rtol", help="Relative tolerance of every statistic."),
    rtol_stat: list[str] | None = typer.Option(
        None, "--rtol-stat", help="Per statistic, e.g. p99=0.02."
    ),
    atol: float = typer.Option(
        1e-6, "--atol", help="Floor (MPa) of the reference value in the denominator."
    ),
    subject: list[str] | None = typer.Option(None, "--subject", help="Only these subjects."),
    phase: list[str] | None = typer.Option(None, "--phase", help="Only these phases."),
    bone: list[str] | None = typer.Option(None, "--bone", help="Only these bones."),
    stat: list[str] | None = typer.Option(None, "--stat", help="Only these statistics."),
    show_all: bool = typer.Option(False, "--all", help="List every pair, not only failures."),
    as_json: bool = JsonOpt,
) -> None:
    """Compare the labels of backends A and B; exit 1 if any is outside tolerance or none match."""
    from footdt.labels.compare import compare
    from footdt.labels.store import LabelStore

    tols = _parse_rtol(rtol, rtol_stat)
    if backend_a == backend_b:
        raise fail(f"compare needs two different backends, got {backend_a!r} twice")
    if not atol > 0:
        raise typer.BadParameter(f"{atol} must be > 0", param_hint="--atol")
    with LabelStore(store, create=False) as st:
        result = compare(
            st,
            backend_a,
            backend_b,
            tols,
            atol,
            **_filters(subject=subject, phase=phase, bone=bone, stat=stat),
        )
        present = st.backends()
    if as_json:
        print_json(result.to_dict())
    else:
        _comparison_table(result, show_all)
    if not result.rows:
        absent = [b for b in (backend_a, backend_b) if b not in present]
        have = ", ".join(present) or "none"
        why = (
            f"backend(s) {', '.join(absent)} have no labels (store has: {have})"
            if absent
            else "no rows of the two backends share a subject/trial/phase/bone/stat"
        )
        raise fail(f"nothing compared: {why}")
    if not result.ok:
        worst = max(result.failures, key=lambda r: r.rel_diff)
        raise fail(
            f"{len(result.failures)} of {len(result.rows)} labels differ beyond tolerance; worst "
            f"{worst.subject}/{worst.trial} {worst.phase}.{worst.bone}.{worst.stat}: "
            f"{worst.a:.6g} vs {worst.b:.6g} MPa (rel. diff {worst.rel_diff:.3g} > {worst.tol:g})"
        )


def _comparison_table(result: Comparison, show_all: bool) -> None:
    """Table of the compared pairs (only failures when there are many), then a summary line."""
    from rich.table import Table

    shown = result.rows if show_all or len(result.rows) <= 40 else result.failures
    if shown:
        table = Table(title=f"{result.backend_a} (A) vs {result.backend_b} (B, reference)")
        names = ("subject", "trial", "phase", "bone", "stat", "A MPa", "B MPa", "rel", "tol", "ok")
        for name in names:
            table.add_column(name, overflow="fold")
        for r in shown:
            ok = "[green]ok[/]" if r.ok else "[bold red]FAIL[/]"
            cells = (r.subject, r.trial, r.phase, r.bone, r.stat)
            table.add_row(*cells, f"{r.a:.5g}", f"{r.b:.5g}", f"{r.rel_diff:.2g}", f"{r.tol:g}", ok)
        console.print(table)
    if len(shown) < len(result.rows):
        console.print(f"(showing the {len(shown)} failures; --all shows every pair)")
    console.print(
        f"compared {len(result.rows)}, failed {len(result.failures)}, "
        f"missing in {result.backend_a}: {len(result.missing_in_a)}, "
        f"missing in {result.backend_b}: {len(result.missing_in_b)}"
    )


@app.command("import")
@handle_errors
def import_cmd(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="JSON written by the Abaqus extraction script."
    ),
    store: str = StoreOpt,
    model_dir: Path | None = typer.Option(
        None, "--model", help="Compiled model directory (default: the JSON's directory)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Import Abaqus results (element Mises + EVOL per step) as labels."""
    from footdt.ir import load_model
    from footdt.labels import store_result

    try:
        from footdt.backends.abaqus import read_abaqus_json
    except ImportError as exc:
        raise fail(
            f"cannot import Abaqus results: the abaqus backend is not available ({exc})"
        ) from None
    model = load_model(model_dir if model_dir is not None else file.parent)
    try:
        result = read_abaqus_json(file, model)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # malformed (JSONDecodeError too)
        why = f"{type(exc).__name__}: {exc}"
        raise fail(
            f"{file}: cannot read Abaqus results ({why}); re-run the extraction script"
        ) from None
    rows = store_result(store, result, model)
    if as_json:
        print_json([r.to_dict() for r in rows])
    else:
        who = f"{result.subject}/{result.trial} ({result.backend})"
        console.print(f"stored {len(rows)} labels of {who} in {store}")


@app.command()
@handle_errors
def export(
    out: Path = typer.Argument(..., help="Output file: .csv or .parquet."),
    store: str = StoreOpt,
    wide: bool = typer.Option(
        False, "--wide", help="One row per subject, trial and backend; a column per label."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Export label rows to CSV or Parquet, typed (values in MPa; a CSV gets a Table Schema
    beside it; read back with footdt.labels.export.read_export)."""
    from footdt.labels.store import LabelStore

    with LabelStore(store, create=False) as st:
        n = st.export(out, wide=wide)
    schema = out.with_name(out.name + ".schema.json") if out.suffix.lower() == ".csv" else None
    if as_json:
        print_json({"path": str(out), "format": out.suffix.lower().lstrip("."), "rows": n,
                    "wide": wide, "schema": None if schema is None else str(schema)})  # fmt: skip
    else:
        what = "trials" if wide else "labels"
        print_plain(f"wrote {n} {what} to {out}" + (f" (types: {schema})" if schema else ""))


@app.command()
@handle_errors
def describe(store: str = StoreOpt, as_json: bool = JsonOpt) -> None:
    """Summarise a store: rows per backend, subjects, phases, bones, statistics."""
    from footdt.labels.store import LabelStore

    with LabelStore(store, create=False) as st:
        info = st.describe()
    if as_json:
        print_json(info)
        return
    console.print(f"[bold]{info['store']}[/]: {info['rows']} labels from {info['solves']} solves")
    for name, n in info["backends"].items():
        console.print(f"  {name}: {n}")
    for key in ("subjects", "trials", "phases", "bones", "stats"):
        console.print(f"  {key}: {', '.join(info[key]) or '-'}")
