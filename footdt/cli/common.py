"""What every command shares: one-line errors (with their causes under ``--verbose``), JSON
output, the console."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from footdt.errors import FootdtError, shorten

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

#: Set by ``footdt --verbose`` (or FOOTDT_VERBOSE=1): errors also print the exceptions behind them.
VERBOSE = {"on": os.environ.get("FOOTDT_VERBOSE", "") not in ("", "0")}


def causes(exc: BaseException) -> list[str]:
    """``Type: message`` of each exception behind ``exc``, outermost first: its ``__cause__``
    (``raise ... from err``) or, when none was given, the exception it was raised while handling."""
    out: list[str] = []
    seen = {id(exc)}
    cur = exc.__cause__ or exc.__context__
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        first = (str(cur).strip().splitlines() or [""])[0]
        mod = type(cur).__module__
        name = type(cur).__qualname__ if mod == "builtins" else f"{mod}.{type(cur).__qualname__}"
        out.append(f"{name}: {first}" if first else name)
        cur = cur.__cause__ or cur.__context__
    return out


#: Longest line the printer lets through: errors are written to stay within 300 characters
#: (``footdt.errors.MAX_LINE``); this only guards against a message that echoes megabytes.
PRINT_LIMIT = 1000


def error_lines(message: str) -> list[str]:
    """The lines ``fail`` prints for ``message``: one per message line, blank lines dropped, each
    shortened in the middle to at most ``PRINT_LIMIT`` characters (with the ``error: `` prefix)."""
    lines = [ln for ln in str(message).splitlines() if ln.strip()] or ["(no message)"]
    return [f"error: {shorten(ln, PRINT_LIMIT - 7)}" for ln in lines]


def print_error(message: str) -> None:
    """Print ``error: message`` to stderr. The message is plain text, never rich markup: user
    text such as ``[bold]x[/bold]`` or ``[/]`` in a value or a file name is shown as it is."""
    for line in error_lines(message):
        text = Text(line, no_wrap=True, overflow="ignore")
        text.stylize("bold red", 0, len("error:"))
        err_console.print(text, highlight=False, soft_wrap=True)


def print_plain(line: str, style: str = "") -> None:
    """Print one line of plain text (file names, ids) to stdout without reading markup in it."""
    console.print(Text(line, style=style), highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` (one line per message line) to stderr and return an Exit to raise."""
    print_error(message)
    return typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Turn footdt errors (and a few foreign ones) into a one-line message and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FootdtError as exc:
            stop = fail(str(exc), exc.exit_code)
            if VERBOSE["on"]:
                for line in causes(exc):
                    err_console.print(f"  caused by: {line}", highlight=False, soft_wrap=True)
            raise stop from exc
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except MemoryError:
            raise fail(
                "out of memory: use a coarser mesh (--size) or the low-memory solver profile"
            ) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
