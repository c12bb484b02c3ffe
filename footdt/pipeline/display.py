"""What a person sees: a rich progress bar with one line per finished trial, and summary tables."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from footdt.pipeline.runner import RunReport
from footdt.pipeline.steps import TrialTask
from footdt.pipeline.trial import TrialOutcome

_STYLE = {"done": "green", "up_to_date": "dim", "failed": "bold red", "stale": "yellow",
          "pending": "cyan"}  # fmt: skip


class RichReporter:
    """Progress on ``console`` (use stderr so ``--json`` output stays clean)."""

    def __init__(self, console: Console, label: str) -> None:
        self.console, self.label = console, label
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console,
        )  # fmt: skip
        self.bar: Any = None
        self.counts: Counter[str] = Counter()
        self.running = 0

    def _detail(self) -> str:
        c = self.counts
        return (f"{c['done']} done, {c['failed']} failed, {c['up_to_date']} up to date, "
                f"{self.running} running")  # fmt: skip

    def begin(self, total: int, skipped: int) -> None:
        self.counts["up_to_date"] = skipped
        self.progress.start()
        self.bar = self.progress.add_task(self.label, total=total, completed=skipped, detail="")
        self.progress.update(self.bar, detail=self._detail())

    def started(self, task: TrialTask, worker: int) -> None:
        self.running += 1
        self.progress.update(self.bar, detail=self._detail())

    def finished(self, outcome: TrialOutcome) -> None:
        self.running = max(0, self.running - 1)
        self.counts[outcome.status] += 1
        who = f"{outcome.subject}/{outcome.trial}"
        if outcome.status == "failed":
            msg = f"[bold red]failed[/] {who} at {outcome.failed_step}: {outcome.reason}"
        else:
            steps = "+".join(outcome.steps_run) or "checked, up to date"
            msg = f"[green]done[/]   {who}: {steps} ({outcome.wall_time_s:.1f} s)"
        self.progress.console.print(msg, highlight=False, soft_wrap=True)
        self.progress.update(self.bar, advance=1, detail=self._detail())

    def end(self) -> None:
        self.progress.stop()


def run_table(report: RunReport) -> Table:
    c = report.counts()
    table = Table(
        title=f"footdt run {report.cohort} ({report.backend}, {report.executor} x{report.workers}, "
        f"{report.threads} solver thread(s) each)",
        caption=f"{c['done']} done, {c['up_to_date']} up to date, {c['failed']} failed "
        f"in {report.wall_time_s:.1f} s; logs in {report.out}/logs",
    )
    for col in ("subject", "trial", "status", "steps run", "time (s)", "peak MB", "reason"):
        table.add_column(col, overflow="fold")
    for o in report.outcomes:
        table.add_row(
            o.subject, o.trial, f"[{_STYLE[o.status]}]{o.status.replace('_', ' ')}[/]",
            "+".join(o.steps_run) or "-", f"{o.wall_time_s:.1f}" if o.steps_run else "-",
            f"{o.peak_rss_mb:.0f}" if o.peak_rss_mb else "-",
            f"{o.failed_step}: {o.reason}" if o.reason else "",
        )  # fmt: skip
    return table


def status_table(rows: list[dict[str, Any]], cohort: str) -> Table:
    counts = Counter(r["status"] for r in rows)
    subjects = {r["subject"] for r in rows}
    per_subject = Counter(
        r["subject"] for r in rows if r["status"] == "done"
    )  # subjects with all trials done
    complete = sum(
        1 for s in subjects if per_subject[s] == sum(1 for r in rows if r["subject"] == s)
    )
    table = Table(
        title=f"footdt status {cohort}",
        caption=", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        + f"; {complete} of {len(subjects)} subjects complete",
    )
    for col in ("backend", "subject", "trial", "status", "step", "reason", "updated"):
        table.add_column(col, overflow="fold")
    for r in rows:
        style = _STYLE.get(r["status"], "none")
        table.add_row(r["backend"], r["subject"], r["trial"], f"[{style}]{r['status']}[/]",
                      r["step"], r["reason"], r["updated_at"])  # fmt: skip
    return table
