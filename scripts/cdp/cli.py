"""The `cdp` command line: parses arguments, calls the modules that do the work, and
turns their results into tables and their errors into one line and an exit code."""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from enum import Enum
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cdp import build as build_module
from cdp import export as export_module
from cdp import land as land_module
from cdp import pipeline, settings
from cdp import status as status_module
from cdp import subjects as subjects_module
from cdp.errors import CdpError, ExitCode
from cdp.project import connect, project_dir, warehouse_path, writable_folder

app = typer.Typer(
    help="Land, build, check and export CRM, Support and Adobe Campaign data.",
    epilog=ExitCode.help(),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Wide tables when output goes to a log file or a CI job rather than a terminal.
console = Console(width=None if Console().is_terminal else 140)
errors = Console(stderr=True, width=None if Console().is_terminal else 140)


VERSIONS_SHOWN = ("cdp", "dbt-core", "dbt-duckdb", "duckdb", "great-expectations")
DEFAULT_DATA_DOCS = Path("target/data_docs")


def print_version(asked: bool) -> None:
    if asked:
        console.print(" ".join(f"{name} {metadata.version(name)}" for name in VERSIONS_SHOWN),
                      highlight=False)
        raise typer.Exit()


@app.callback()
def options(
    ctx: typer.Context,
    project: Annotated[Path | None, typer.Option(
        "--project-dir", help="The dbt project (default: CDP_PROJECT_DIR, else the checkout "
        "cdp is installed from, else the current folder).")] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=print_version, is_eager=True,
        help="Print the versions of cdp, dbt and DuckDB, and exit.")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also print what the run log records, on stderr.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print errors and warnings only (no tables, no progress).")]
    = False,
) -> None:
    if project is not None:
        os.environ["CDP_PROJECT_DIR"] = str(project)
        settings.check_environment()   # one line when it holds no dbt_project.yml
    console.quiet = quiet
    if ctx.invoked_subcommand:
        start_run_log(ctx.invoked_subcommand, verbose)


log = logging.getLogger("cdp")
log.addHandler(logging.NullHandler())   # nothing on stderr before a run log is set up
log.propagate = False   # not to the handlers dbt, run in process, gives the root logger


def start_run_log(command: str, verbose: bool) -> None:
    """Every command writes its own log file, logs/cdp-<UTC time>-<command>.log in the
    project (beside dbt's): its arguments, what it did step by step, how it ended."""
    folder = writable_folder(project_dir() / "logs")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    handler = logging.FileHandler(folder / f"cdp-{stamp}-{command}.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    if verbose:
        shown = logging.StreamHandler(sys.stderr)
        shown.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        log.addHandler(shown)
    log.setLevel(logging.INFO)
    log.info("cdp %s: %s (project %s, warehouse %s)", metadata.version("cdp"),
             " ".join(sys.argv[1:]), project_dir(), warehouse_path())


JsonOption = Annotated[bool, typer.Option(
    "--json", help="Print one JSON object on stdout instead of tables and progress "
    "(its shape: README, \"Scripting cdp\").")]


def print_json(payload: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(payload, default=str) + "\n")
    sys.stdout.flush()


export_app = typer.Typer(
    help="Export what changed since the last export to a destination: a folder, "
    "az://<container>/<prefix> (AZURE_STORAGE_CONNECTION_STRING) or "
    "sftp://<user>@<host>[:port]/<path> (CDP_SFTP_PASSWORD or CDP_SFTP_KEY_FILE).",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")

class FileFormat(str, Enum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


class LogFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"


def table(title: str, columns: list[str], rows: list[tuple]) -> Table:
    result = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        result.add_column(column, justify="right" if index and rows and
                          isinstance(rows[0][index], int) else "left")
    for row in rows:
        result.add_row(*("" if value is None else str(value) for value in row))
    return result


def development_module(name: str) -> ModuleType:
    """A module of the development package (scripts/dev), which users need not install."""
    try:
        return importlib.import_module(f"cdp_dev.{name}")
    except ModuleNotFoundError as missing:
        if missing.name not in ("cdp_dev", f"cdp_dev.{name}"):
            raise
        raise CdpError(f"`cdp {name}` is a development command: install the development "
                       "package (`make venv`, or `pip install -e scripts/dev`)") from None


@app.command()
def generate(
    root: Annotated[Path, typer.Argument(help="Landing root to write extracts into.")],
    contacts: Annotated[int, typer.Option(help="People to simulate; every entity scales with it.")] = 2000,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 42,
    batches: Annotated[int, typer.Option(help="Extract batches: one full, then daily deltas.")] = 4,
    file_format: Annotated[FileFormat, typer.Option("--format", help="File format of the extracts.")] = FileFormat.csv,
) -> None:
    """Write realistic, deliberately messy sample extracts for every entity
    (development: needs the development package)."""
    generate_module = development_module("generate")
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
    fail_on_reject: Annotated[bool, typer.Option(help="Exit 4 when a file or line was rejected.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Land every extract file not landed before into raw.<source>_<entity>."""
    console.quiet |= as_json
    landed = pipeline.land(root, LandBar(root))
    print_landed(landed, as_json)
    if fail_on_reject and any(
        o.status in ("rejected", "unreadable") or o.lines_rejected for o in landed.report.outcomes
    ):
        raise typer.Exit(ExitCode.REJECTS)


class LandBar(pipeline.LandProgress):
    """A bar of the bytes landed, which moves within a file too: a thread polls
    DuckDB's progress of the running statement (query_progress is meant to be called
    from another thread)."""

    def __init__(self, root: Path):
        files, _ = land_module.plan(root)
        self.total = sum(file.path.stat().st_size for file in files if file.path.exists())
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
            TimeElapsedColumn(), console=console, transient=True,
        )
        self.done_bytes = 0
        self.file_bytes = 0

    @contextmanager
    def watching(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        self.task = self.progress.add_task("landing", total=self.total)
        con.execute("set enable_progress_bar = true")
        con.execute("set enable_progress_bar_print = false")
        stopped = threading.Event()
        poller = threading.Thread(target=self.poll, args=(con, stopped), daemon=True)
        with self.progress:
            poller.start()
            try:
                yield
            finally:
                stopped.set()
                poller.join()

    def start_file(self, file: land_module.ExtractFile) -> None:
        self.file_bytes = file.path.stat().st_size if file.path.exists() else 0
        self.progress.update(self.task, description=file.relative, completed=self.done_bytes)

    def finish_file(self, outcome: land_module.FileOutcome) -> None:
        self.done_bytes += self.file_bytes
        self.file_bytes = 0
        self.progress.update(self.task, completed=self.done_bytes)

    def poll(self, con: duckdb.DuckDBPyConnection, stopped: threading.Event) -> None:
        while not stopped.wait(0.25):
            percent = con.query_progress()
            if percent > 0 and self.file_bytes:
                within = self.file_bytes * min(percent, 100) / 100
                self.progress.update(self.task, completed=self.done_bytes + within)


def print_landed(landed: pipeline.Landed, as_json: bool = False) -> None:
    report, seconds = landed.report, landed.seconds
    print_land_problems(report)
    if as_json:
        print_json({"files": [asdict(outcome) for outcome in report.outcomes],
                    "notices": report.notices, "rows_landed": report.rows_landed,
                    "lines_rejected": report.lines_rejected, "seconds": round(seconds, 3)})
    else:
        print_land_report(report, seconds)


def printable(text: str) -> str:
    """Text for one line of output: control characters (a newline in a file name) are
    shown escaped, and markup is taken literally."""
    return escape("".join(c if c.isprintable() else repr(c)[1:-1] for c in text))


def print_land_problems(report: land_module.LandReport) -> None:
    """Notices, refused files and rejected lines, on stderr (with --json too)."""
    for notice in report.notices:
        errors.print(f"[yellow]notice:[/] {printable(notice)}", highlight=False, soft_wrap=True)
    for outcome in report.outcomes:
        if outcome.status in ("rejected", "unreadable"):
            errors.print(f"[red]{outcome.status}:[/] {printable(outcome.message)}",
                         highlight=False, soft_wrap=True)
        elif outcome.status == "empty" or outcome.lines_rejected:
            errors.print(f"[yellow]warning:[/] {printable(outcome.message)}", highlight=False,
                         soft_wrap=True)


def print_land_report(report: land_module.LandReport, seconds: float) -> None:
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
def build(
    ctx: typer.Context,
    all_tests: Annotated[bool, typer.Option(
        help="Test every row, not only what was landed or written since the last "
             "whole, passing build.")] = False,
    unit_tests: Annotated[bool, typer.Option(
        help="Run dbt's unit tests too (static inputs: for development and CI; a build "
             "given dbt arguments runs them unless excluded).")] = False,
) -> None:
    """Run `dbt build` on the project; arguments after `--` go to dbt. Nothing runs
    when no load landed and the project is unchanged since the last whole build passed."""
    build_project(list(ctx.args), all_tests, unit_tests)


def build_project(dbt_args: list[str], all_tests: bool = False, unit_tests: bool = False) -> None:
    built = pipeline.build(dbt_args, all_tests, unit_tests, console.quiet, print_build_plan)
    print_built(built)
    if built.outcome is not None and built.outcome.code != 0:
        raise typer.Exit(built.outcome.code)


def print_build_plan(plan: build_module.BuildPlan) -> None:
    if plan.scope == "skip":
        console.print(
            f"nothing to build: no load landed and the project has not changed since "
            f"the last whole build passed ({plan.last_whole.started_at:%Y-%m-%d %H:%M:%S} "
            "UTC); `cdp build --all-tests` builds and tests everything", highlight=False)
        return
    if plan.project_changed:
        console.print("the project changed since the last whole build: if how staging "
                      "parses changed, rebuild with `cdp build -- --full-refresh`",
                      highlight=False)
    if plan.scope == "export_state":
        console.print("only the Campaign segment membership to rebuild: an export changed "
                      "the export state it reads", highlight=False)


def print_built(built: pipeline.Built) -> None:
    outcome = built.outcome
    if outcome is None:
        return
    if outcome.counts:
        console.print(table(
            "Build summary",
            ["resource", "status", "count"],
            [(kind, state, n) for (kind, state), n in sorted(outcome.counts.items())],
        ))
    if outcome.code != 0:
        errors.print(f"[red]error:[/] dbt build failed (exit code {outcome.code}), see the log "
                     "above")


@app.command()
def score(
    root: Annotated[Path, typer.Argument(help="Landing root written by `cdp generate`.")],
    min_precision: Annotated[float, typer.Option(help="Exit 1 below this precision.")] = 0.0,
    min_recall: Annotated[float, typer.Option(help="Exit 1 below this recall.")] = 0.0,
) -> None:
    """Score profile.identities against the generator's ground truth (development:
    needs the development package)."""
    score_module = development_module("score")
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
        raise typer.Exit(ExitCode.FAILURE)


@app.command()
def check(
    docs: Annotated[Path, typer.Option(help="Folder of the Great Expectations Data Docs.")]
    = DEFAULT_DATA_DOCS,
    full: Annotated[bool, typer.Option(
        help="Check every row of every suite, even when nothing was built or landed "
             "since the last check passed.")]
    = False,
    as_json: JsonOption = False,
) -> None:
    """Run the Great Expectations suites on the marts; write Data Docs. Only what was
    built or landed since the last check passed is checked: the suites it changed,
    their rows written since (--full: every row of every suite)."""
    console.quiet |= as_json
    started = time.perf_counter()
    docs = data_docs_folder(docs)
    with console.status("checking ...") as shown:
        results = pipeline.check(docs, full, lambda name: shown.update(f"checking {name} ..."))
    if print_checked(results, docs, time.perf_counter() - started, as_json):
        raise typer.Exit(ExitCode.FAILURE)


def data_docs_folder(docs: Path) -> Path:
    return writable_folder(docs if docs.is_absolute() else project_dir() / docs)


def print_checked(results: list | None, docs: Path, seconds: float, as_json: bool = False
                  ) -> int:
    """What a check found; returns how many expectations failed."""
    if results is None:
        if as_json:
            print_json({"checked": False, "suites": [], "failures": [],
                        "data_docs": str(docs / "index.html"), "seconds": round(seconds, 3)})
        console.print("nothing to check: nothing was built or landed since the last "
                      f"check passed (`cdp check --full` checks); Data Docs: "
                      f"{docs / 'index.html'}", highlight=False, soft_wrap=True)
        return 0
    console.print(table("Great Expectations suites", ["suite", "rows checked", "expectations",
                                                       "failed"], [
        (r.suite, r.rows, r.expectations, len(r.failures)) for r in results]))
    failures = [f for r in results for f in r.failures]
    for failure in failures:
        log.error("FAILED %s", failure.line())
        errors.print(f"[red]FAILED[/] {escape(failure.line())}", highlight=False, soft_wrap=True)
    if as_json:
        print_json({"checked": True, "suites": [
            {"suite": r.suite, "rows_checked": r.rows, "expectations": r.expectations,
             "failed": len(r.failures)} for r in results],
            "failures": [failure.line() for failure in failures],
            "data_docs": str(docs / "index.html"), "seconds": round(seconds, 3)})
    console.print(
        f"{sum(r.expectations for r in results)} expectations in {len(results)} suites, "
        f"{len(failures)} failed, in {seconds:.1f}s; "
        f"Data Docs: {docs / 'index.html'}", highlight=False, soft_wrap=True)
    return len(failures)


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Show loads, rejected files and lines, and records staging rejected."""
    print_sections(pipeline.status(), as_json)


@app.command()
def report(
        last: Annotated[int, typer.Option(help="Runs, loads and days to show.", min=1)] = 10,
        as_json: JsonOption = False) -> None:
    """Show the pipeline over time: watermark lag and late rows per import type,
    rejected lines per load, identity health per build, export volumes per day."""
    print_sections(pipeline.report(last), as_json)


def print_sections(sections: list[status_module.Section], as_json: bool) -> None:
    if as_json:
        print_json({"warehouse": str(warehouse_path()), "sections": {
            section.key: section.records() for section in sections}})
        return
    console.print(f"warehouse: {escape(str(warehouse_path()))}")
    for section in sections:
        if section.rows:
            console.print(table(section.title, section.columns, section.rows))
        else:
            console.print(f"[bold]{section.title}[/]: {section.empty}")


DestinationOption = Annotated[str, typer.Option(
    "--to", help="Folder, az://<container>/<prefix> or sftp://<user>@<host>[:port]/<path>.")]
DryRunOption = Annotated[bool, typer.Option(help="Print what would be written; write nothing.")]
SpreadsheetSafeOption = Annotated[bool, typer.Option(
    help="Escape cells a spreadsheet would read as a formula (for files people open); "
    "by default values go out exactly as they are.")]


ForceOption = Annotated[bool, typer.Option(
    help="Export even within the Campaign guardrail interval (default 4 hours).")]
GzipOption = Annotated[bool, typer.Option(help="Write gzip-compressed files (.csv.gz).")]
MaxRowsOption = Annotated[int, typer.Option(help="Rows per file before a new part starts.", min=1)]



class ExportBar(export_module.Progress):
    def __init__(self):
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                 TimeElapsedColumn(), console=console, transient=True)
        self.task = self.progress.add_task("exporting", total=None)

    @contextmanager
    def shown(self) -> Iterator[None]:
        with self.progress:
            yield

    def staging(self, subject: subjects_module.Subject, rows: int) -> None:
        self.progress.update(self.task, description=f"writing {subject.name} ({rows:,} rows)")

    def file_done(self, name: str, size: int) -> None:
        self.progress.update(self.task, description=f"published {name}", advance=size)


def run_export(kind: str, to: str, full: bool = False, dry_run: bool = False,
               guardrail: bool = False, as_json: bool = False,
               **options) -> list[export_module.Outcome]:
    """Export one kind to `to`, with a progress bar and a summary table (or JSON)."""
    console.quiet |= as_json
    exported = pipeline.export(kind, to, full, dry_run, guardrail, ExportBar(), **options)
    print_exported(exported, as_json)
    return exported.report.outcomes


def print_exported(exported: pipeline.Exported, as_json: bool = False) -> None:
    if as_json:
        print_json(export_json(exported.kind, exported.report, exported.seconds))
    else:
        print_export_report(exported.kind, exported.report, exported.seconds)


def export_json(kind: str, report: export_module.KindReport, seconds: float) -> dict[str, object]:
    exported = [o for o in report.outcomes if o.status == "exported"]
    return {"kind": kind, "destination": report.url,
            "subjects": [{"subject": o.subject.name, "status": o.status, "rows": o.rows,
                          "files": [{"name": f.name, "rows": f.rows, "bytes": f.bytes,
                                     "sha256": f.sha256} for f in o.files]}
                         for o in report.outcomes],
            "resumed": [{"kind": k, "subject": s, "rows": n} for k, s, n in report.resumed],
            "rows_exported": sum(o.rows for o in exported),
            "bytes_exported": sum(o.bytes for o in exported), "seconds": round(seconds, 3)}


def print_export_report(kind: str, report: export_module.KindReport, seconds: float) -> None:
    url, outcomes = report.url, report.outcomes
    for resumed_kind, subject, rows in report.resumed:
        errors.print(f"[yellow]notice:[/] finished an interrupted export of {resumed_kind} "
                     f"{escape(subject)} ({rows:,} rows) to {escape(url)}", highlight=False,
                     soft_wrap=True)
    console.print(table(f"Export of {kind} to {url}", ["subject", "status", "rows", "files", "MB"], [
        (o.subject.name, o.status, o.rows, len([f for f in o.files if f.rows or not f.name.endswith(".json")]),
         f"{o.bytes / 1e6:.1f}") for o in outcomes
    ]))
    for outcome in outcomes:
        if outcome.status == "would export":
            for planned in outcome.files:
                console.print(f"  would write {escape(planned.name)} ({planned.rows:,} rows)", highlight=False)
    rows = sum(o.rows for o in outcomes if o.status == "exported")
    size = sum(o.bytes for o in outcomes if o.status == "exported")
    if any(o.status == "would export" for o in outcomes):
        console.print(f"dry run: {sum(o.rows for o in outcomes):,} rows would be exported; nothing written")
    elif rows == 0:
        console.print(f"nothing new to export to {escape(url)}; nothing written")
    else:
        console.print(
            f"exported {rows:,} rows ({size / 1e6:.1f} MB) to {escape(url)} in {seconds:.1f}s "
            f"({rows / seconds:,.0f} rows/s, {size / 1e6 / seconds:.1f} MB/s)"
        )


@export_app.command("insight")
def export_insight(
    to: DestinationOption,
    import_type: Annotated[list[str] | None, typer.Option(
        "--import-type", help="Only this import type (repeatable).")] = None,
    full: Annotated[bool, typer.Option(help="Send every current row again, not only changes.")] = False,
    dry_run: DryRunOption = False,
    max_rows: MaxRowsOption = subjects_module.DEFAULT_MAX_ROWS,
    spreadsheet_safe: SpreadsheetSafeOption = False,
    as_json: JsonOption = False,
) -> None:
    """Insight CSVs per import type: <DEST>/insight/<DataSource>/<import_type>/; CRM
    deletions as delete-request bodies: <DEST>/insight-delete-requests/<DataSource>/."""
    run_export("insight", to, full, dry_run, import_types=import_type, max_rows=max_rows,
               spreadsheet_safe=spreadsheet_safe, as_json=as_json)


@export_app.command("insight-deletions")
def export_insight_deletions(
    api: Annotated[str, typer.Option(
        help="Insight's API server, e.g. https://api.insight.sitefinity.com.")],
    batch_size: Annotated[int, typer.Option(help="Subjects per delete request.", min=1)]
    = subjects_module.DELETE_REQUEST_BATCH,
    dry_run: Annotated[bool, typer.Option(help="Count what would be sent; send nothing.")]
    = False,
) -> None:
    """Submit CRM deletions Insight's API has not accepted yet as delete requests
    (CDP_INSIGHT_ACCESS_KEY, CDP_INSIGHT_DATACENTER_KEY); each is sent once."""
    result = pipeline.submit_deletions(api, batch_size, dry_run)
    if dry_run:
        console.print(f"dry run: {result.planned:,} deletion(s) would be sent to {escape(result.api)}; "
                      "nothing sent")
        return
    if not result.requests:
        console.print(f"no deletions to send to {escape(result.api)}; nothing sent")
        return
    console.print(table(f"Delete requests accepted by {result.api}",
                        ["request id", "status", "subjects"], result.requests))
    console.print(f"sent {result.subjects:,} deletion(s) in {len(result.requests)} request(s)")


def run_campaign_export(kind: str, to: str, force: bool, **options) -> None:
    """A Campaign-bound export: refused within the guardrail interval unless forced
    (exit code ExitCode.GUARDRAIL)."""
    try:
        run_export(kind, to, guardrail=not force, **options)
    except export_module.GuardrailRefusal as refusal:
        print_refusal(refusal, "refused")
        raise typer.Exit(ExitCode.GUARDRAIL) from None


def print_refusal(refusal: export_module.GuardrailRefusal, label: str) -> None:
    errors.print(f"[yellow]{label}:[/] {escape(str(refusal))}", highlight=False, soft_wrap=True)


def campaign_command(kind: str, full_help: str) -> Callable[..., None]:
    """`cdp export <kind>` for files Campaign's import workflows load."""
    def command(
        to: DestinationOption,
        full: bool = False,
        force: ForceOption = False,
        dry_run: DryRunOption = False,
        gzip: GzipOption = False,
        max_rows: MaxRowsOption = subjects_module.DEFAULT_MAX_ROWS,
        spreadsheet_safe: SpreadsheetSafeOption = False,
        as_json: JsonOption = False,
    ) -> None:
        run_campaign_export(kind, to, force, full=full, dry_run=dry_run, gzip=gzip,
                            max_rows=max_rows, spreadsheet_safe=spreadsheet_safe,
                            as_json=as_json)
    # (annotations are evaluated in the module, so this one is set, not written)
    command.__annotations__["full"] = Annotated[bool, typer.Option(help=full_help)]
    return command


export_app.command(
    "segments", help="Campaign segment files: <DEST>/campaign/segments/<segment_id>/.",
)(campaign_command("segments", "Every current member, not only realized and exited."))
export_app.command(
    "campaign-profiles",
    help="Simplified profile data of every recipient Campaign has, keyed by RecipientId "
         "(var campaign_profile_attributes), changed rows only: <DEST>/campaign/profiles/.",
)(campaign_command("campaign-profiles", "Every recipient again, not only changed rows."))
export_app.command(
    "campaign-lookups",
    help="Personalization lookups (var campaign_lookups), changed rows only: "
         "<DEST>/campaign/lookups/<name>/.",
)(campaign_command("campaign-lookups", "Every row again, not only changed rows."))


def parse_window(text: str) -> float:
    """Hours in `4h`, `30m` or `1d`."""
    units = {"m": 1 / 60, "h": 1.0, "d": 24.0}
    try:
        hours = float(text[:-1]) * units[text[-1]]
    except (KeyError, ValueError, IndexError):
        raise typer.BadParameter(f"{text!r}: use minutes, hours or days, e.g. 30m, 4h, 1d") from None
    if not hours * 3600 >= 1:
        raise typer.BadParameter("the window must be at least one second")
    return hours


@export_app.command("campaign-logs")
def export_campaign_logs(
    to: DestinationOption,
    window: Annotated[str, typer.Option(help="Time window per file (closed windows only).")] = "4h",
    file_format: Annotated[LogFormat, typer.Option("--format", help="File format.")] = LogFormat.csv,
    dry_run: DryRunOption = False,
    spreadsheet_safe: SpreadsheetSafeOption = False,
    as_json: JsonOption = False,
) -> None:
    """broadLog, trackingLog, non-deliverable addresses and preference changes per
    closed time window, with XDM field names: <DEST>/campaign/logs/<log>/."""
    hours = parse_window(window)
    run_export("campaign-logs", to, dry_run=dry_run, window_hours=hours,
               file_format=file_format.value, spreadsheet_safe=spreadsheet_safe,
               as_json=as_json)


validate_app = typer.Typer(help="Check exported files against what their receiver documents.",
                           no_args_is_help=True)
app.add_typer(validate_app, name="validate")


@validate_app.command("insight")
def validate_insight(
    folder: Annotated[Path, typer.Argument(help="An export destination folder (holding insight/).")],
) -> None:
    """Check every file under <folder>/insight/ against Insight's CSV files format and
    its manifests; one line per violation, exit 1 if any."""
    from cdp import validate as validate_module

    report = validate_module.validate_insight(folder)
    for violation in report.violations:
        errors.print(violation.line_text(), highlight=False, soft_wrap=True, markup=False)
    console.print(f"{report.files} file(s), {report.rows:,} row(s) checked under "
                  f"{escape(str(folder / 'insight'))}: {len(report.violations)} violation(s)", highlight=False)
    if report.violations:
        raise typer.Exit(ExitCode.FAILURE)


@app.command()
def run(
    root: Annotated[Path, typer.Argument(help="Landing root: <root>/<source>/<entity>/<file>.")],
    to: DestinationOption,
    force: Annotated[bool, typer.Option(
        help="Export to Campaign even within the guardrail interval.")] = False,
) -> None:
    """Land, build, check and export (Insight, Campaign segments, profiles, lookups,
    logs), in that order, one run at a time."""
    try:
        seconds = pipeline.run(root, to, data_docs_folder(DEFAULT_DATA_DOCS), force,
                               RunPrinter(root))
    except pipeline.StepFailed as failed:
        raise typer.Exit(failed.exit_code) from None
    console.print(f"run finished in {sum(seconds.values()):.1f}s: " + ", ".join(
        f"{stage} {spent:.1f}s" for stage, spent in seconds.items()), highlight=False)


class RunPrinter(pipeline.Reporter):
    """`cdp run` shows each stage as its own command does."""

    def __init__(self, root: Path):
        self.root = root
        self.checking = None

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        console.rule(name)
        if name != "check":
            yield
            return
        with console.status("checking ...") as self.checking:
            yield

    def land_progress(self) -> pipeline.LandProgress:
        return LandBar(self.root)

    def landed(self, landed: pipeline.Landed) -> None:
        print_landed(landed)

    def build_planned(self, plan: build_module.BuildPlan) -> None:
        print_build_plan(plan)

    def built(self, built: pipeline.Built) -> None:
        print_built(built)

    def check_progress(self, suite: str) -> None:
        self.checking.update(f"checking {suite} ...")

    def checked(self, results: list | None, docs: Path, seconds: float) -> None:
        print_checked(results, docs, seconds)

    def export_progress(self, kind: str) -> export_module.Progress:
        return ExportBar()

    def exported(self, exported: pipeline.Exported) -> None:
        print_exported(exported)

    def refused(self, kind: str, refusal: export_module.GuardrailRefusal) -> None:
        print_refusal(refusal, f"{kind} skipped")


def main() -> None:
    """Entry point: a person sees one line per error, never a traceback; the run log
    records how the command ended."""
    started, code = time.perf_counter(), int(ExitCode.FAILURE)
    try:
        settings.check_environment()
        app()
    except SystemExit as done:   # how Typer ends every command
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    except CdpError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        log.error("error: %s", error)
        code = error.exit_code
    except duckdb.Error as error:
        message = " ".join(str(error).split())
        errors.print(f"[red]warehouse error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        log.error("warehouse error: %s", message)
        code = ExitCode.FAILURE
    except KeyboardInterrupt:
        errors.print("interrupted")
        code = ExitCode.INTERRUPTED
    log.info("exit code %d after %.1f s", code, time.perf_counter() - started)
    sys.exit(code)


if __name__ == "__main__":
    main()
