"""Every `footdt` command of README.md's tour parses: its sub-command and options exist and its
values have the right types (without running it: the tour's solves and training are long)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer import _click as click  # typer vendors click: its classes and errors, not click's
from typer.core import TyperGroup

from footdt.cli.app import app
from tests.conftest import REPO


def tour_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    tour = text.split("## A five-minute tour", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    out = []
    for line in tour.splitlines():
        line = line.strip()
        if line.startswith("$ footdt"):
            cmd = re.split(r"\s+#", line[2:], maxsplit=1)[0]
            out += [c.strip() for c in cmd.split("&&")]
    return out


def parse(command: str) -> None:
    """Resolve ``command``'s (sub-)command and parse its arguments as footdt would."""
    args = shlex.split(command)[1:]
    cmd: click.Command = typer.main.get_command(app)
    while args and args[0] in ("--verbose", "-v"):  # footdt's own options come first
        args = args[1:]
    ctx: click.Context | None = None
    while isinstance(cmd, TyperGroup):  # footdt, then labels / gait / cohort / loads
        name, args = args[0], args[1:]
        ctx = click.Context(cmd, info_name=cmd.name, parent=ctx)
        sub = cmd.get_command(ctx, name)
        assert sub is not None, f"{command}: no command {name!r}"
        cmd = sub
    cmd.make_context(cmd.name, list(args), parent=ctx)  # raises on an unknown option or a bad value


@pytest.mark.parametrize("command", tour_commands())
def test_tour_command_parses(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a fresh directory with the repository's specs/, where the files a command reads
    exist (empty: existence is all parsing checks)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").symlink_to(REPO / "specs")
    for token in shlex.split(command):
        p = Path(token)
        if (
            not token.startswith("-")
            and p.suffix
            and not token.startswith("specs/")
            and not p.exists()
        ):
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch()
    parse(command)


@pytest.mark.parametrize(
    "command",
    ["footdt labels show --store x.db --bogus", "footdt labels show --limit many",
     "footdt demo -n 3", "footdt gait nosuch x.csv"],
)  # fmt: skip
def test_a_wrong_command_or_option_is_caught(command: str) -> None:
    with pytest.raises((click.exceptions.UsageError, AssertionError)):
        parse(command)


def test_the_tour_has_commands() -> None:
    assert len(tour_commands()) >= 15
