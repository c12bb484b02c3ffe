"""The ``footdt`` command line (typer): one module per command group."""
