"""`cdp export`: send what changed since the last export to a destination, exactly
once, through files DuckDB writes.

One export of one subject (an import type, a segment, a log) to one destination:

1. plan: the rows this destination has not received (subjects.py), in a temporary
   table;
2. stage: DuckDB `COPY` writes the files, then the manifest, into the outbox beside
   the warehouse; each is synced to disk;
3. record: one transaction marks the export `pending`, with its files and their
   checksums, and records the rows as sent;
4. publish: the destination makes each file visible whole under its final name,
   the manifest last; then the export is `done` and its outbox folder removed.

A crash before 3 leaves the state as it was (the outbox is cleared next time); a
crash after 3 leaves a pending export whose staged files the next run publishes
again under the same names before planning anything new. Either way the files at
the destination end up carrying every change once.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from cdp import governance, warehouse
from cdp.destinations import Destination, open_destination
from cdp.errors import CdpError
from cdp.faults import checkpoint
from cdp.files import FollowedWrite, sha256_file
from cdp.insight_format import TIMESTAMP_FORMAT
from cdp.project import connect, project_vars, require_built, warehouse_path
from cdp.sql import identifier, literal, parameters
from cdp.state import invocations
from cdp.subjects import (
    DEFAULT_MAX_ROWS,
    Subject,
    insight_subjects,
    log_subjects,
    lookup_subjects,
    profile_subjects,
    segment_subjects,
)

STAMP = "%Y%m%dT%H%M%SZ"
COPY_OPTIONS = {
    "csv": ("format csv, header true, delimiter ',', quote '\"', escape '\"', "
            f"timestampformat '{TIMESTAMP_FORMAT}'"),
    "parquet": "format parquet",
    "json": "format json, array true",   # one JSON array of objects per file
}


@dataclass
class StagedFile:
    name: str           # path relative to the destination root
    rows: int
    bytes: int
    sha256: str


@dataclass
class Outcome:
    subject: Subject
    status: str         # exported, nothing new or would export (dry run)
    rows: int = 0
    files: list[StagedFile] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)   # per step

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


class Progress:
    """What a caller hears while files are staged and published (nothing, unless
    overridden)."""

    @contextmanager
    def shown(self) -> Iterator[None]:
        """Around the export."""
        yield

    def staging(self, subject: Subject, rows: int) -> None:
        pass

    def file_done(self, name: str, size: int) -> None:
        pass


class Stopwatch:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self.last
        self.last = now


def outbox() -> Path:
    return warehouse_path().parent / "outbox"


def fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def next_stamp(con: duckdb.DuckDBPyConnection, destination: str, subject: Subject,
               now: datetime) -> str:
    """Now, in file-name form; a second later than the subject's last export at
    this destination if that one had the same second, so names never collide."""
    last = con.execute(
        "select max(stamp) from cdp_state.exports where destination = ? and kind = ? "
        "and subject = ?", [destination, subject.kind, subject.name]).fetchone()[0]
    stamp = now.strftime(STAMP)
    if last and stamp <= last:
        stamp = (datetime.strptime(last, STAMP) + timedelta(seconds=1)).strftime(STAMP)
    return stamp


def last_through(con: duckdb.DuckDBPyConnection, destination: str, subject: Subject) -> int | None:
    """How far (in load ids) the interactions of this subject were sent."""
    return con.execute(
        "select max(through_load_id) from cdp_state.exports where destination = ? "
        "and kind = ? and subject = ?", [destination, subject.kind, subject.name]).fetchone()[0]


@dataclass
class Plan:
    rows: int
    first: str | None     # watermark range of the rows (their Timestamp), if any
    last: str | None
    through: int | None   # interactions: the load-id clock the table had read
    relation: str = "table"   # export_rows: a table, or a view DuckDB streams from


def plan(con: duckdb.DuckDBPyConnection, destination: str, subject: Subject,
         full: bool) -> Plan:
    """The rows to send, as export_rows: a table the plan runs into once, which
    counting, writing and recording read. Rows that go to one file, of a plan that
    records nothing and binds nothing (new interactions), are a view instead: DuckDB
    streams them from the tables into the file, and counting them computes no cell."""
    through = None if full else last_through(con, destination, subject)
    sql = subject.rows_sql(full, through)
    bound = parameters(sql, destination=destination)
    count = "select count(*), min(_timestamp), max(_timestamp) from "
    if not bound and not subject.records_rows and subject.max_rows is not None:
        rows, first, last = con.execute(f"{count} ({sql})").fetchone()
        if rows <= subject.max_rows:
            con.execute(f"create or replace temp view export_rows as "
                        f"select *, '0001' as _file from ({sql})")
            return Plan(rows, iso(first), iso(last), watermark(con, subject), "view")
    con.execute(f"create or replace temp table export_rows as select * from ({sql})", bound)
    rows, first, last = con.execute(count + "export_rows").fetchone()
    if subject.max_rows is not None:
        # Numbered parts of at most max_rows rows, by their place in the table; each
        # part is written by a COPY of its own (stage). A window over every row
        # (row_number() over ()) and one COPY partitioned by part ran out of memory
        # at 10,000,000 contacts (90.8M Insight email events).
        if rows <= subject.max_rows:
            con.execute("alter table export_rows add column _file varchar default '0001'")
        else:
            con.execute("alter table export_rows add column _file varchar")
            con.execute(f"update export_rows set _file = "
                        f"lpad(cast(rowid // {subject.max_rows} + 1 as varchar), 4, '0')")
    return Plan(rows, iso(first), iso(last), watermark(con, subject))


def watermark(con: duckdb.DuckDBPyConnection, subject: Subject) -> int | None:
    return con.execute(subject.watermark_sql).fetchone()[0] if subject.watermark_sql else None


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds") + "Z" if moment else None


def drop_plan(con: duckdb.DuckDBPyConnection, planned: Plan) -> None:
    con.execute("drop view if exists sent_now")
    con.execute(f"drop {planned.relation} if exists export_rows")


def planned_files(con: duckdb.DuckDBPyConnection, subject: Subject, stamp: str,
                  rows: int) -> list[tuple[str, str, int]]:
    """(file key, relative name, rows) per file of the plan."""
    if subject.max_rows is not None:
        full_parts, rest = divmod(rows, subject.max_rows)
        sizes = [subject.max_rows] * full_parts + ([rest] if rest else [])
        counts = [(f"{n + 1:04d}", size) for n, size in enumerate(sizes)]
    else:
        counts = con.execute(
            "select _file, count(*) from export_rows group by _file order by _file").fetchall()
    extension = ".gz" if subject.gzip else ""
    return [(key, f"{subject.folder}/{subject.file_name(stamp, key)}{extension}", n)
            for key, n in counts]


def copy_options(subject: Subject) -> str:
    return COPY_OPTIONS[subject.file_format] + (", compression gzip" if subject.gzip else "")


def stage(con: duckdb.DuckDBPyConnection, subject: Subject, stamp: str, folder: Path,
          planned: Plan) -> list[StagedFile]:
    """Write the plan's files and then its manifest into `folder`, each synced."""
    staged = []
    for batch in file_batches(planned_files(con, subject, stamp, planned.rows)):
        rows_of_batch = "export_rows"
        if subject.max_rows is None and len(batch) > 1:
            # Each window's COPY reads its own rows only when the windows lie in order.
            # Sorting the whole plan at once spilled over 31 GB at 10M contacts (92M
            # log rows); a batch of windows at a time sorts in memory. A window as
            # large as a batch is read from the plan as it is.
            rows_of_batch = "export_batch"
            con.execute(f"create or replace temp table export_batch as select * "
                        f"from export_rows where _file between {literal(batch[0][0])} "
                        f"and {literal(batch[-1][0])} order by _file")
        for key, name, rows in batch:
            staged.append(stage_file(con, subject, folder / name, name, rows,
                                     f"select * from {rows_of_batch} where _file = {literal(key)}"))
    con.execute("drop table if exists export_batch")
    manifest = write_manifest(subject, stamp, folder, staged, planned)
    return [*staged, manifest]


# Log rows sorted by window at a time, in memory (a few hundred MB at most).
BATCH_ROWS = 2_000_000


def file_batches(files: list[tuple[str, str, int]]) -> list[list[tuple[str, str, int]]]:
    """The files in order, grouped into runs of at most BATCH_ROWS rows (a larger
    file makes a batch of its own)."""
    batches: list[list[tuple[str, str, int]]] = []
    size = 0
    for file in files:
        if not batches or size + file[2] > BATCH_ROWS:
            batches.append([])
            size = 0
        batches[-1].append(file)
        size += file[2]
    return batches


def stage_file(con: duckdb.DuckDBPyConnection, subject: Subject, path: Path, name: str,
               rows: int, rows_sql: str) -> StagedFile:
    header = ", ".join(identifier(c) for c in subject.columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint("stage-file")
    following = FollowedWrite(path)
    try:
        # Row order within a file means nothing to Insight or Campaign: DuckDB may
        # write the rows as its threads produce them.
        con.execute("set preserve_insertion_order = false")
        con.execute(f"copy (select {header} from ({rows_sql})) "
                    f"to {literal(str(path))} ({copy_options(subject)})")
    finally:
        con.execute("reset preserve_insertion_order")
        sha256 = following.finish()
    fsync_file(path)
    checkpoint("staged-file")
    return StagedFile(name, rows, path.stat().st_size, sha256)


def write_manifest(subject: Subject, stamp: str, folder: Path, files: list[StagedFile],
                   planned: Plan) -> StagedFile:
    name = f"{subject.folder}/{subject.name}_{stamp}_manifest.json"
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "kind": subject.kind,
        "subject": subject.name,
        "stamp": stamp,
        "rows": sum(f.rows for f in files),
        "files": [{"name": Path(f.name).name, "rows": f.rows, "bytes": f.bytes,
                   "sha256": f.sha256} for f in files],
        "watermark_range": [planned.first, planned.last],
    }, indent=2) + "\n")
    fsync_file(path)
    return StagedFile(name, 0, path.stat().st_size, sha256_file(path))


def record(con: duckdb.DuckDBPyConnection, destination: str, subject: Subject,
           export_id: str, stamp: str, files: list[StagedFile], planned: Plan) -> None:
    """The export becomes pending and its rows sent, in one transaction."""
    con.execute("begin transaction")
    try:
        con.execute(
            "insert into cdp_state.exports values (?, ?, ?, ?, ?, 'pending', "
            "now()::timestamp, null, ?, ?, ?)",
            [export_id, destination, subject.kind, subject.name, stamp, planned.rows,
             json.dumps([f.__dict__ for f in files]), planned.through],
        )
        if subject.records_rows:
            # The rows as planned (the plan's table, not the state it was planned against).
            con.execute("create or replace temp view sent_now as select * from export_rows")
            con.execute("""
                delete from cdp_state.sent_rows as held using sent_now as sent
                where held.destination = $destination and held.subject = sent._state_subject
                    and held.row_key = sent._row_key and sent._fingerprint is not null
            """, {"destination": destination})
            con.execute("""
                insert into cdp_state.sent_rows
                select $destination, _state_subject, _row_key, _fingerprint, $export_id
                from sent_now where _fingerprint is not null
            """, {"destination": destination, "export_id": export_id})
        for statement in subject.state_sql:
            con.execute(statement, parameters(statement, destination=destination,
                                              export_id=export_id))
        checkpoint("record")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def publish(con: duckdb.DuckDBPyConnection, destination: Destination, export_id: str,
            files: list[StagedFile], progress: Progress) -> None:
    """Publish the staged files (the manifest is last), then mark the export done."""
    folder = outbox() / export_id
    for staged in files:
        checkpoint("publish-file")
        destination.publish(folder / staged.name, staged.name)
        progress.file_done(staged.name, staged.bytes)
        checkpoint("published-file")
    con.execute("update cdp_state.exports set status = 'done', published_at = now()::timestamp "
                "where export_id = ?", [export_id])
    checkpoint("done")
    shutil.rmtree(folder, ignore_errors=True)


def finish_pending(con: duckdb.DuckDBPyConnection, destination: Destination,
                   progress: Progress) -> list[tuple[str, str, int]]:
    """Publish again the exports a crash or a destination failure left pending,
    and clear outbox folders no export owns. Returns (kind, subject, rows) each."""
    pending = con.execute(
        "select export_id, kind, subject, rows, files from cdp_state.exports "
        "where destination = ? and status = 'pending' order by planned_at",
        [destination.url]).fetchall()
    finished = []
    for export_id, kind, subject, rows, files_json in pending:
        files = [StagedFile(**f) for f in json.loads(files_json)]
        folder = outbox() / export_id
        for staged in files:
            path = folder / staged.name
            if not path.exists() or sha256_file(path) != staged.sha256:
                raise CdpError(
                    f"export {export_id} of {kind} {subject} to {destination.url} is pending "
                    f"but its staged file {path} is missing or changed; it cannot be resent"
                )
        publish(con, destination, export_id, files, progress)
        finished.append((kind, subject, rows))
    owned = {row[0] for row in con.execute(
        "select export_id from cdp_state.exports where status = 'pending'").fetchall()}
    if outbox().exists():
        for folder in outbox().iterdir():
            if folder.name not in owned:
                shutil.rmtree(folder, ignore_errors=True)
    return finished


def export_subject(con: duckdb.DuckDBPyConnection, destination: Destination, subject: Subject,
                   full: bool, dry_run: bool, progress: Progress,
                   now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Outcome:
    clock = Stopwatch()
    planned_from = datetime.now(UTC).replace(tzinfo=None)
    if not full and nothing_due(con, destination.url, subject):
        return Outcome(subject, "nothing new")
    planned = plan(con, destination.url, subject, full)
    clock.lap("plan")
    checkpoint("planned")
    rows = planned.rows
    if rows == 0:
        drop_plan(con, planned)
        if not dry_run:
            mark_complete(con, destination.url, subject, planned_from)
        return Outcome(subject, "nothing new")
    stamp = next_stamp(con, destination.url, subject, now())
    if dry_run:
        files = [StagedFile(name, n, 0, "")
                 for _, name, n in planned_files(con, subject, stamp, rows)]
        drop_plan(con, planned)
        return Outcome(subject, "would export", rows, files)
    export_id = str(uuid.uuid4())
    progress.staging(subject, rows)
    files = stage(con, subject, stamp, outbox() / export_id, planned)
    clock.lap("stage")
    record(con, destination.url, subject, export_id, stamp, files, planned)
    drop_plan(con, planned)
    clock.lap("record")
    checkpoint("recorded")
    publish(con, destination, export_id, files, progress)
    clock.lap("publish")
    mark_complete(con, destination.url, subject, planned_from)
    return Outcome(subject, "exported", rows, files, clock.laps)


def nothing_due(con: duckdb.DuckDBPyConnection, destination: str, subject: Subject) -> bool:
    """Whether a log subject has nothing to send without planning it (which reads
    every stored row): nothing was built or landed since the destination last had
    every due row, and no window closed since."""
    if subject.due is None:
        return False
    complete = con.execute("select max(as_of) from cdp_state.complete_as_of "
                           "where destination = ? and subject = ?",
                           [destination, subject.due.key]).fetchone()[0]
    if complete is None:
        return False
    # A rebuild of what reads the export state (segment membership) changes no log.
    built = invocations(con).get("data")
    if built is None:
        return False   # no run manifest: what changed the tables cannot be told
    landed = con.execute("select max(started_at) from raw._loads").fetchone()[0]
    if built.started_at >= complete or (landed and landed >= complete):
        return False
    return con.execute(subject.due.since_sql(complete)).fetchone()[0] == 0


def mark_complete(con: duckdb.DuckDBPyConnection, destination: str, subject: Subject,
                  as_of: datetime) -> None:
    """The destination has every row of a log subject that was due at `as_of`."""
    if subject.due is None:
        return
    con.execute("delete from cdp_state.complete_as_of where destination = ? and subject = ?",
                [destination, subject.due.key])
    con.execute("insert into cdp_state.complete_as_of values (?, ?, ?)",
                [destination, subject.due.key, as_of])


def last_export_at(con: duckdb.DuckDBPyConnection, destination: str, kind: str) -> datetime | None:
    return con.execute(
        "select max(planned_at) from cdp_state.exports where destination = ? and kind = ?",
        [destination, kind]).fetchone()[0]


class GuardrailRefusal(CdpError):
    """Campaign-bound exports run at most once per interval unless forced."""


# What Campaign's import workflows load: each at most once per guardrail interval.
CAMPAIGN_BOUND = ("segments", "campaign-profiles", "campaign-lookups")


def check_guardrail(con: duckdb.DuckDBPyConnection, destination: str, kind: str) -> None:
    hours = float(project_vars(con).get("campaign_export_interval_hours", 4))
    last = last_export_at(con, destination, kind)
    if last is None:
        return
    allowed = last + timedelta(hours=hours)
    if datetime.now(UTC).replace(tzinfo=None) < allowed:
        raise GuardrailRefusal(
            f"{kind} were exported to {destination} at {last:%Y-%m-%dT%H:%M:%SZ}; Campaign "
            f"takes one export per {hours:g} hours, so the next is allowed from "
            f"{allowed:%Y-%m-%dT%H:%M:%SZ} (add --force to export now)"
        )


# The dbt exposure that stands for each kind of destination (governance).
EXPOSURES = {"insight": "sitefinity_insight", "segments": "adobe_campaign",
             "campaign-profiles": "adobe_campaign", "campaign-lookups": "adobe_campaign",
             "campaign-logs": "campaign_log_archive"}


def subjects_of(con: duckdb.DuckDBPyConnection, kind: str, destination: str,
                spreadsheet_safe: bool, import_types: list[str] | None = None,
                max_rows: int = DEFAULT_MAX_ROWS, window_hours: float = 4.0,
                file_format: str = "csv", gzip: bool = False) -> list[Subject]:
    if kind == "insight":
        return insight_subjects(con, import_types, max_rows, spreadsheet_safe)
    if kind == "segments":
        return segment_subjects(con, destination, spreadsheet_safe, max_rows, gzip)
    if kind == "campaign-profiles":
        return profile_subjects(con, max_rows, gzip, spreadsheet_safe)
    if kind == "campaign-lookups":
        return lookup_subjects(con, max_rows, gzip, spreadsheet_safe)
    return log_subjects(con, window_hours, file_format, spreadsheet_safe)


@dataclass
class KindReport:
    url: str
    outcomes: list[Outcome]
    resumed: list[tuple[str, str, int]]


def export_kind(kind: str, to: str, full: bool, dry_run: bool, guardrail: bool,
                progress: Progress, spreadsheet_safe: bool = False, **options) -> KindReport:
    """Every subject of one kind to `to`: governance and the guardrail first, then
    what an interruption left pending, then each subject. Values go out exactly as
    they are unless `spreadsheet_safe` (or the exposure's `meta.spreadsheet_safe`)."""
    destination = open_destination(to)   # checks the URL and credentials, connects later
    con = connect()
    try:
        warehouse.create_tables(con)
        require_built(con, ["insight" if kind == "insight" else "campaign"],
                      f"exporting {kind}")
        spreadsheet_safe = spreadsheet_safe or governance.spreadsheet_safe(EXPOSURES[kind])
        subjects = subjects_of(con, kind, destination.url, spreadsheet_safe, **options)
        # Nothing is written before governance and the guardrail have agreed.
        governance.check([pair for s in subjects for pair in s.governed], EXPOSURES[kind])
        if guardrail and not dry_run:
            check_guardrail(con, destination.url, kind)
        if not dry_run:
            destination.check()
        resumed = [] if dry_run else finish_pending(con, destination, progress)
        outcomes = [export_subject(con, destination, subject, full, dry_run, progress)
                    for subject in subjects]
    finally:
        destination.close()
        con.close()
    return KindReport(destination.url, outcomes, resumed)
