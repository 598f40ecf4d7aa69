"""The `cdp` command line: parses arguments, calls the modules that do the work, and
turns their results into tables and their errors into one line and an exit code."""

from __future__ import annotations

import sys
import threading
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Self

import duckdb
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cdp import build as build_module
from cdp import generate as generate_module
from cdp import land as land_module
from cdp import score as score_module
from cdp import status as status_module
from cdp.errors import CdpError
from cdp.project import connect, warehouse_path

app = typer.Typer(
    help="Land, build, check and export CRM, Support and Adobe Campaign data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Wide tables when output goes to a log file or a CI job rather than a terminal.
console = Console(width=None if Console().is_terminal else 140)
errors = Console(stderr=True, width=None if Console().is_terminal else 140)


class FileFormat(str, Enum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


def table(title: str, columns: list[str], rows: list[tuple]) -> Table:
    result = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        result.add_column(column, justify="right" if index and rows and
                          isinstance(rows[0][index], int) else "left")
    for row in rows:
        result.add_row(*("" if value is None else str(value) for value in row))
    return result


@app.command()
def generate(
    root: Annotated[Path, typer.Argument(help="Landing root to write extracts into.")],
    contacts: Annotated[int, typer.Option(help="People to simulate; every entity scales with it.")] = 2000,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 42,
    batches: Annotated[int, typer.Option(help="Extract batches: one full, then daily deltas.")] = 4,
    file_format: Annotated[FileFormat, typer.Option("--format", help="File format of the extracts.")] = FileFormat.csv,
) -> None:
    """Write realistic, deliberately messy sample extracts for every entity."""
    started = time.perf_counter()
    with console.status(f"generating {contacts:,} contacts ..."):
        report = generate_module.generate(root, contacts, seed, batches, file_format.value)
    per_entity: dict[str, list[int]] = {}
    for entity, _, rows in report.files:
        files_rows = per_entity.setdefault(entity, [0, 0])
        files_rows[0] += 1
        files_rows[1] += rows
    console.print(table(
        f"Generated in {root}",
        ["entity", "files", "rows"],
        [(entity, files, rows) for entity, (files, rows) in per_entity.items()],
    ))
    console.print(
        f"{report.rows:,} rows in {len(report.files)} files in "
        f"{time.perf_counter() - started:.1f}s; ground truth in {root / '_truth'}"
    )


@app.command()
def land(
    root: Annotated[Path, typer.Argument(help="Landing root: <root>/<source>/<entity>/<file>.")],
    fail_on_reject: Annotated[bool, typer.Option(help="Exit 2 when a file or line was rejected.")] = False,
) -> None:
    """Land every extract file not landed before into raw.<source>_<entity>."""
    files, _ = land_module.plan(root)
    total = sum(file.path.stat().st_size for file in files if file.path.exists())
    started = time.perf_counter()
    con = connect()
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    )
    with progress, QueryProgress(con, progress, progress.add_task("landing", total=total)) as bar:
        report = land_module.land(con, root, bar.start_file, bar.finish_file)
    con.close()
    print_land_report(report, time.perf_counter() - started)
    if fail_on_reject and any(
        o.status in ("rejected", "unreadable") or o.lines_rejected for o in report.outcomes
    ):
        raise typer.Exit(2)


class QueryProgress:
    """Moves the bar within a file too: a thread polls DuckDB's progress of the running
    statement (query_progress is meant to be called from another thread)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, progress: Progress, task: TaskID):
        self.con, self.progress, self.task = con, progress, task
        self.done_bytes = 0
        self.file_bytes = 0
        self.stopped = threading.Event()
        self.poller = threading.Thread(target=self.poll, daemon=True)

    def __enter__(self) -> Self:
        self.con.execute("set enable_progress_bar = true")
        self.con.execute("set enable_progress_bar_print = false")
        self.poller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        self.poller.join()

    def start_file(self, file: land_module.ExtractFile) -> None:
        self.file_bytes = file.path.stat().st_size if file.path.exists() else 0
        self.progress.update(self.task, description=file.relative, completed=self.done_bytes)

    def finish_file(self, outcome: land_module.FileOutcome) -> None:
        self.done_bytes += self.file_bytes
        self.file_bytes = 0
        self.progress.update(self.task, completed=self.done_bytes)

    def poll(self) -> None:
        while not self.stopped.wait(0.25):
            percent = self.con.query_progress()
            if percent > 0 and self.file_bytes:
                within = self.file_bytes * min(percent, 100) / 100
                self.progress.update(self.task, completed=self.done_bytes + within)


def print_land_report(report: land_module.LandReport, seconds: float) -> None:
    for notice in report.notices:
        errors.print(f"[yellow]notice:[/] {notice}", highlight=False, soft_wrap=True)
    for outcome in report.outcomes:
        if outcome.status in ("rejected", "unreadable"):
            errors.print(f"[red]{outcome.status}:[/] {outcome.message}", highlight=False, soft_wrap=True)
        elif outcome.status == "empty" or outcome.lines_rejected:
            errors.print(f"[yellow]warning:[/] {outcome.message}", highlight=False, soft_wrap=True)
    summary: dict[str, list[int]] = {}
    statuses = ["landed", "skipped", "empty", "rejected", "unreadable"]
    for outcome in report.outcomes:
        counts = summary.setdefault(outcome.entity, [0] * (len(statuses) + 2))
        counts[statuses.index(outcome.status)] += 1
        counts[-2] += outcome.rows_landed
        counts[-1] += outcome.lines_rejected
    console.print(table(
        "Landing summary",
        ["entity", *statuses, "rows landed", "lines rejected"],
        [(entity, *counts) for entity, counts in sorted(summary.items())],
    ))
    rate = report.rows_landed / seconds if seconds else 0
    console.print(
        f"{report.count('landed')} file(s) landed, {report.count('skipped')} already landed, "
        f"{report.count('rejected') + report.count('unreadable')} refused; "
        f"{report.rows_landed:,} rows, {report.lines_rejected:,} lines rejected "
        f"in {seconds:.1f}s ({rate:,.0f} rows/s)"
    )


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def build(ctx: typer.Context) -> None:
    """Run `dbt build` on the project; arguments after `--` go to dbt."""
    # The raw tables and the export state are the sources dbt reads: create them
    # (empty) if nothing was landed yet, so a first build works.
    con = connect()
    land_module.ensure_source_tables(con)
    con.close()
    code = build_module.run_dbt("build", list(ctx.args))
    counts = build_module.run_results_summary()
    if counts:
        console.print(table(
            "Build summary",
            ["resource", "status", "count"],
            [(kind, state, n) for (kind, state), n in sorted(counts.items())],
        ))
    if code != 0:
        errors.print(f"[red]error:[/] dbt build failed (exit code {code}), see the log above")
        raise typer.Exit(code)


@app.command()
def score(
    root: Annotated[Path, typer.Argument(help="Landing root written by `cdp generate`.")],
    min_precision: Annotated[float, typer.Option(help="Exit 1 below this precision.")] = 0.0,
    min_recall: Annotated[float, typer.Option(help="Exit 1 below this recall.")] = 0.0,
) -> None:
    """Score profile.identities against the generator's ground truth."""
    con = connect(read_only=True)
    result = score_module.score(con, root / "_truth" / "identities.parquet")
    con.close()
    console.print(table("Identity graph against the ground truth", ["measure", "value"], [
        ("source records scored", result.records),
        ("people", result.people),
        ("pairwise precision", f"{result.precision:.5f}"),
        ("pairwise recall", f"{result.recall:.5f}"),
        ("F1", f"{result.f1:.5f}"),
        ("people wrongly merged", result.wrongly_merged_people),
        ("people wrongly split", result.wrongly_split_people),
    ]))
    if result.precision < min_precision or result.recall < min_recall:
        errors.print(
            f"[red]error:[/] precision {result.precision:.5f} / recall {result.recall:.5f} "
            f"below {min_precision} / {min_recall}", highlight=False, soft_wrap=True,
        )
        raise typer.Exit(1)


@app.command()
def status() -> None:
    """Show loads, rejected files and lines, and records staging rejected."""
    con = connect(read_only=True)
    console.print(f"warehouse: {warehouse_path()}")
    for section in status_module.sections(con):
        if section.rows:
            console.print(table(section.title, section.columns, section.rows))
        else:
            console.print(f"[bold]{section.title}[/]: {section.empty}")
    con.close()


def main() -> None:
    """Entry point: a person sees one line per error, never a traceback."""
    try:
        app()
    except CdpError as error:
        errors.print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except duckdb.Error as error:
        message = " ".join(str(error).split())
        errors.print(f"[red]warehouse error:[/] {message}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
