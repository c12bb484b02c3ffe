"""The ``footdt`` command. Sub-commands live in their own modules and are registered here."""

from __future__ import annotations

import typer

from footdt import __version__

app = typer.Typer(
    name="footdt",
    help="Open digital twin for bone stress in runners: specs -> FE labels -> wearable-driven learning.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # plain (click) formatting for the top-level help: rich's help renderer imports markdown-it
    # and pygments, which alone take longer than the 0.3 s budget of `footdt --help`;
    # sub-commands keep rich help
    rich_markup_mode=None,
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
        False, "--verbose", "-v", help="Show TensorFlow's start-up and retracing messages."
    ),
) -> None:
    """footdt: specs -> finite-element stress labels -> wearable-driven bone-stress prediction."""
    from footdt.cli.quiet import set_verbose

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
