"""What a person sees while the demo runs: one heading per stage, progress bars on the long ones,
a spinner on the short ones, and a line saying what each stage did (or that it was up to date).
Everything goes to one rich console (stderr under ``--json``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Update = Callable[..., None]


class DemoUi:
    def __init__(self, console: Console, n_stages: int) -> None:
        self.console = console
        self.n_stages = n_stages
        self.index = 0

    def stage(self, title: str) -> None:
        self.index += 1
        self.console.rule(f"[bold]{self.index}/{self.n_stages} {title}", align="left")

    def finished(self, status: str, wall_time_s: float, line: str) -> None:
        if status == "up_to_date":
            self.console.print(f"[dim]up to date, skipped[/] ({line})", highlight=False)
        else:
            self.console.print(f"[green]done[/] in {wall_time_s:.1f} s: {line}", highlight=False)

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False, soft_wrap=True)

    def warn(self, text: str) -> None:
        self.console.print(f"[yellow]note:[/] {text}", highlight=False, soft_wrap=True)

    @contextlib.contextmanager
    def bar(self, description: str, total: int | None = None) -> Iterator[Update]:
        """A progress bar; yields ``update(completed, total=None, detail="")``."""
        progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=self.console,
            transient=True,
        )  # fmt: skip
        task = progress.add_task(description, total=total, detail="")

        def update(completed: int, total: int | None = None, detail: str = "") -> None:
            kw: dict[str, Any] = {"completed": completed, "detail": detail}
            if total is not None:
                kw["total"] = total
            progress.update(task, **kw)

        with progress:
            yield update

    @contextlib.contextmanager
    def spinner(self, text: str) -> Iterator[None]:
        with self.console.status(text):
            yield

    def pipeline_reporter(self, label: str) -> Any:
        """The ``footdt run`` progress bar (one line per finished trial)."""
        from footdt.pipeline.display import RichReporter

        return RichReporter(self.console, label)
