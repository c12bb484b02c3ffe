"""The ``footdt`` command. Sub-commands live in their own modules and are registered here."""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.core import TyperGroup

from footdt import __version__


class _RootGroup(TyperGroup):
    """``footdt --help`` in click's plain format: rich's help renderer imports markdown-it and
    pygments, which alone take longer than the 0.3 s the top-level help may take. Every
    command's own help keeps rich formatting."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        super(TyperGroup, self).format_help(ctx, formatter)


app = typer.Typer(
    name="footdt",
    cls=_RootGroup,
    help="Open digital twin for bone stress in runners: specs -> FE labels -> wearable-driven learning.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"footdt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="On an error, also print the exceptions that caused it (or set FOOTDT_VERBOSE=1); "
        "show TensorFlow's start-up and retracing messages.",
    ),
) -> None:
    """footdt: specs -> finite-element stress labels -> wearable-driven bone-stress prediction."""
    from footdt.cli.common import VERBOSE
    from footdt.cli.quiet import set_verbose

    # each invocation decides afresh (one process may run several, as tests do)
    VERBOSE["on"] = verbose or os.environ.get("FOOTDT_VERBOSE", "") not in ("", "0")
    set_verbose(verbose)


def _register() -> None:
    from footdt.cli import cohort, demo, gait, labels, learn, loads, mesh, model, predict, shape
    from footdt.cli import run as run_cli

    model.register(app)
    app.command("mesh")(mesh.mesh)
    app.add_typer(labels.app, name="labels", help="Show, compare, import and export stress labels.")
    app.add_typer(
        gait.app, name="gait", help="Gait events and IMU windows from accelerometer recordings."
    )
    app.add_typer(
        loads.app, name="loads", help="Phase loads (regional pressure, Achilles force) for specs."
    )
    app.add_typer(
        cohort.app, name="cohort", help="Generate and inspect (synthetic) runner cohorts."
    )
    learn.register(app)
    run_cli.register(app)
    predict.register(app)
    shape.register(app)
    app.command("demo")(demo.demo)


_register()


def main() -> None:
    app()
