"""`cdp land`: load extract files into `raw.<source>_<entity>`, file by file.

Each file lands whole or not at all: its rows, its rejected lines and its manifest row
in `raw._loads` are written in one transaction. Parsing happens inside DuckDB
(`read_csv` with reject tables, `read_parquet`, JSON functions), never row by row in
Python.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from cdp import warehouse
from cdp.errors import CdpError, one_line
from cdp.faults import checkpoint
from cdp.project import LOAD_COLUMNS, Entity, raw_entities, warehouse_path
from cdp.settings import setting
from cdp.sql import identifier, literal
from cdp.survey import Survey, blank_lines, survey

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}

# DuckDB's reject error types, in words an operator reads in `cdp status`.
REJECT_REASONS = {
    "TOO MANY COLUMNS": "too many fields",
    "MISSING COLUMNS": "missing fields",
    "UNQUOTED VALUE": "broken quoting",
    "INVALID ENCODING": "invalid UTF-8",
    "LINE SIZE OVER MAXIMUM": "line too long",
    "INVALID STATE": "broken quoting",
}

# The longest column name (or JSON key) landing takes, as most warehouses allow.
MAX_NAME_CHARS = 255
NAME_TOO_LONG = f"has a column name longer than {MAX_NAME_CHARS} characters"
UNUSABLE_KEY = (f"a key no column can carry (empty, holding a double quote, over "
                f"{MAX_NAME_CHARS} characters, or one of {', '.join(LOAD_COLUMNS)})")

# Statuses recorded in raw._loads. Files whose content hash is already recorded with
# one of SETTLED are skipped; a rejected or failed file is tried again next run.
SETTLED = ("landed", "empty")


class FileRejected(Exception):
    """The whole file cannot land; the message names the file and the reason."""


@dataclass
class FileOutcome:
    entity: str
    path: str
    status: str
    rows_landed: int = 0
    lines_rejected: int = 0
    message: str = ""
    size: int = 0


@dataclass
class LandReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def rows_landed(self) -> int:
        return sum(outcome.rows_landed for outcome in self.outcomes)

    @property
    def lines_rejected(self) -> int:
        return sum(outcome.lines_rejected for outcome in self.outcomes)


@dataclass(frozen=True)
class ExtractFile:
    entity: Entity
    path: Path
    relative: str  # path under the landing root, as recorded in raw._loads

    @property
    def stat_signature(self) -> str:
        """Device, inode, size, and modification and change times in nanoseconds, as
        git's index keeps them: any write to the file changes its change time, which
        no program can set back, so an equal signature means unchanged content."""
        st = self.path.stat()
        return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


# --- discovering files ---------------------------------------------------------------


def skipped(path: Path, root: Path, notices: list[str]) -> bool:
    """Symbolic links are never followed (a link could lead out of the landing root);
    hidden files and folders are not extracts; a name that is not UTF-8 cannot be
    recorded; a pipe, socket or device is not a file to read (a pipe would block).
    Each is skipped with a notice."""
    name = path.relative_to(root).as_posix()
    reason = None
    if path.is_symlink():
        reason = "a symbolic link, skipped (links are not followed)"
    elif path.name.startswith("."):
        reason = "hidden, skipped"
    elif not is_utf8(name):
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        reason = "a name that is not UTF-8, skipped (rename it)"
    elif not (path.is_dir() or path.is_file()):
        reason = "not a regular file (a pipe, socket or device), skipped"
    if reason:
        notices.append(f"{name}: {reason}")
    return reason is not None


def is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:   # undecodable bytes, kept by Python as surrogates
        return False
    return True


def entity_files(entity_dir: Path, root: Path, notices: list[str]) -> list[Path]:
    """The regular files below an entity folder, without following links."""
    files = []
    for folder, subfolders, names in os.walk(entity_dir):
        here = Path(folder)
        subfolders[:] = sorted(d for d in subfolders if not skipped(here / d, root, notices))
        files += [here / n for n in sorted(names) if not skipped(here / n, root, notices)]
    return files


def discover(root: Path, notices: list[str]) -> list[ExtractFile]:
    """Files under <root>/<source>/<entity>/, in landing order; oddities go to notices.
    Folders starting with `_` directly under the root (the generator's ground truth)
    are not extracts and pass silently."""
    if not root.is_dir():
        raise CdpError(f"landing root {root} is not a folder")
    entities = raw_entities()
    sources = sorted({source for source, _ in entities})
    found: list[ExtractFile] = []
    for source_dir in sorted(root.iterdir()):
        if source_dir.name.startswith("_") or skipped(source_dir, root, notices):
            continue
        if not source_dir.is_dir():
            notices.append(f"{source_dir.name}: ignored, files belong in <source>/<entity>/")
            continue
        if source_dir.name not in sources:
            notices.append(
                f"{source_dir.name}/: unknown source folder, skipped "
                f"(known: {', '.join(sources)})"
            )
            continue
        known = sorted(name for source, name in entities if source == source_dir.name)
        for entity_dir in sorted(source_dir.iterdir()):
            if skipped(entity_dir, root, notices):
                continue
            label = f"{source_dir.name}/{entity_dir.name}"
            if not entity_dir.is_dir():
                notices.append(f"{label}: ignored, files belong in <source>/<entity>/")
                continue
            if entity_dir.name not in known:
                notices.append(
                    f"{label}/: unknown entity folder, skipped (known: {', '.join(known)})"
                )
                continue
            entity = entities[(source_dir.name, entity_dir.name)]
            files = entity_files(entity_dir, root, notices)
            for path in sorted(files, key=lambda p: p.relative_to(entity_dir).as_posix()):
                found.append(ExtractFile(entity, path, path.relative_to(root).as_posix()))
    return found


# Looked up at call time, so tests can make a file unreadable.
survey_file = survey


# --- the warehouse side --------------------------------------------------------------


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return [name for (name,) in rows]


def match_columns(
    entity: Entity, file_columns: list[str], existing: list[str]
) -> dict[str, str]:
    """Map each file column to its raw column, matching names case-insensitively. A
    file wider than the cap (CDP_LAND_MAX_COLUMNS) is refused before any column is
    added: a hostile header must not grow the raw table or the time to land."""
    cap = setting("CDP_LAND_MAX_COLUMNS")
    if len(file_columns) > cap:
        raise FileRejected(f"has {len(file_columns):,} columns, more than the cap of {cap:,} "
                           "(CDP_LAND_MAX_COLUMNS)")
    known = {name.lower(): name for name in existing}
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name in file_columns:
        key = name.strip().lower()
        if not key:
            raise FileRejected("has a column without a name")
        if len(key) > MAX_NAME_CHARS:
            raise FileRejected(NAME_TOO_LONG)
        if key in LOAD_COLUMNS:
            raise FileRejected(f"has column '{name.strip()}', a name landing keeps for the "
                               "lineage of each row")
        if key in seen:
            if seen[key] == name.strip():
                raise FileRejected(f"has column '{name.strip()}' twice")
            raise FileRejected(f"has columns '{seen[key]}' and '{name.strip()}' (column names "
                               "are matched regardless of case)")
        seen[key] = name.strip()
        mapping[name] = known.get(key, name.strip())
    present = {target.lower() for target in mapping.values()}
    missing = [name for name in entity.required if name.lower() not in present]
    if missing:
        raise FileRejected(f"missing required column '{missing[0]}'")
    return mapping


def add_new_columns(
    con: duckdb.DuckDBPyConnection, table: str, mapping: dict[str, str], existing: list[str]
) -> None:
    have = {name.lower() for name in existing}
    for target in mapping.values():
        if target.lower() not in have:
            warehouse.add_raw_column(con, table, target)
            have.add(target.lower())


def csv_header(path: Path) -> list[str]:
    """The header row, read with Python's csv module (one line; the data goes to DuckDB)."""
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRejected("header row is not valid UTF-8") from error
    if not text.strip():
        raise FileRejected("has no header row")
    line = text.rstrip("\r\n")
    if "\r" in line:
        raise FileRejected("ends its lines with a carriage return alone (CR-only); "
                           "convert it to LF or CRLF line ends")
    try:
        return next(csv.reader([line]))
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise FileRejected(NAME_TOO_LONG) from None
        raise FileRejected(f"has an unreadable header row ({error})") from None


def drop_reject_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table if exists temp.land_rejects")
    con.execute("drop table if exists temp.land_scans")


REJECTS_OPTIONS = (
    "store_rejects = true, rejects_table = 'land_rejects', rejects_scan = 'land_scans'"
)

# The longest record landing takes; a longer one is a rejected line ("line too long").
MAX_RECORD_BYTES = 2 << 20
MIXED_LINE_ENDS = ("mixes line ends (LF, CRLF or CR alone) in a way the CSV reader cannot "
                   "follow; use one kind throughout")


def reader_options(survey: Survey) -> str:
    """The read buffer holds the longest line, however long: DuckDB skips a record
    longer than its buffer without a reject (its default buffer is 16 records)."""
    buffer = max(16 * MAX_RECORD_BYTES, survey.longest_line + MAX_RECORD_BYTES)
    return f"max_line_size = {MAX_RECORD_BYTES}, buffer_size = {buffer}, {REJECTS_OPTIONS}"


def insert_rejects_from_reader(con: duckdb.DuckDBPyConnection, load_id: int, file: ExtractFile) -> None:
    """Move DuckDB's reader rejects (one row per error) into raw._rejected_lines, a row per line."""
    cases = " ".join(
        f"when {literal(kind)} then {literal(reason)}"
        for kind, reason in REJECT_REASONS.items()
    )
    con.execute(
        f"""
        insert into raw._rejected_lines
        select
            {load_id},
            {literal(file.entity.source)},
            {literal(file.entity.name)},
            {literal(file.relative)},
            line,
            string_agg(distinct case error_type::varchar {cases} else lower(error_type::varchar) end, '; '),
            trim(first(csv_line), chr(10) || chr(13))
        from temp.land_rejects
        group by line
        """
    )


def load_csv(
    con: duckdb.DuckDBPyConnection, file: ExtractFile, load_id: int, loaded_at: str,
    survey: Survey,
) -> None:
    existing = table_columns(con, file.entity.table)
    header = csv_header(file.path)
    mapping = match_columns(file.entity, header, existing)
    add_new_columns(con, file.entity.table, mapping, existing)
    # Explicit columns and auto_detect off: DuckDB then rejects broken quoting instead of
    # guessing, and every value stays text exactly as delivered.
    columns = ", ".join(f"{literal(f'c{i}')}: 'VARCHAR'" for i in range(len(header)))
    drop_reject_tables(con)
    try:
        insert_rows(
            con, file, load_id, loaded_at, mapping.values(),
            [f"c{i}" for i in range(len(header))],
            f"""read_csv({literal(str(file.path))}, columns = {{{columns}}},
                header = true, delim = ',', quote = '"', escape = '"',
                auto_detect = false, strict_mode = true, encoding = 'utf-8',
                {reader_options(survey)})""",
        )
    except duckdb.InvalidInputException as error:
        if "reached an invalid state" in str(error):
            raise FileRejected(MIXED_LINE_ENDS) from None
        raise
    number_rows_in_file_order(con, file.entity.table, load_id)
    insert_rejects_from_reader(con, load_id, file)


def insert_rows(
    con: duckdb.DuckDBPyConnection, file: ExtractFile, load_id: int, loaded_at: str,
    targets: Iterable[str], values: list[str], source: str, row_number: str = "null",
) -> None:
    """Insert `values` from `source` into the file's raw columns `targets`, with the
    load's lineage (a null row number is set afterwards, in file order)."""
    columns = ", ".join([*(identifier(target) for target in targets), *LOAD_COLUMNS])
    con.execute(
        f"""
        insert into raw.{file.entity.table} ({columns})
        select {", ".join(values)}, {load_id}, {literal(file.relative)}, {row_number},
            {literal(loaded_at)}::timestamp
        from {source}
        """
    )


def number_rows_in_file_order(con: duckdb.DuckDBPyConnection, table: str, load_id: int) -> None:
    """Set _row_number from rowid: DuckDB keeps insertion order, so rowids follow the
    file. Much faster than row_number() over (), which serialises the parallel read."""
    con.execute(
        f"""
        update raw.{table}
        set _row_number = rowid - (
            select min(rowid) from raw.{table} where _load_id = {load_id}
        ) + 1
        where _load_id = {load_id}
        """
    )


def load_jsonl(
    con: duckdb.DuckDBPyConnection, file: ExtractFile, load_id: int, loaded_at: str,
    survey: Survey,
) -> None:
    lineage_names = ", ".join(literal(name) for name in LOAD_COLUMNS)
    # Each line is read whole as text (0x1e cannot appear unescaped in valid JSON), so a
    # broken line is rejected on its own and the rest of the file still lands.
    drop_reject_tables(con)
    con.execute("drop table if exists temp.land_lines")
    con.execute(
        f"""
        create temp table land_lines as
        select *, reject_reason is null as is_record from (
            select line_number, line,
                case
                    when object is null then 'broken JSON line'
                    -- a key no column can be named after: this line only is rejected
                    when len(list_filter(json_keys(object), lambda k: trim(k) = ''
                            or contains(k, '"') or length(k) > {MAX_NAME_CHARS}
                            or lower(trim(k)) in ({lineage_names}))) > 0
                        then {literal(UNUSABLE_KEY)}
                    -- two keys for one column: which value is meant is unknown
                    when len(json_keys(object)) > len(list_distinct(list_transform(
                            json_keys(object), lambda k: lower(trim(k)))))
                        then 'keys that differ only in case (or repeat)'
                end as reject_reason
            from (
                select row_number() over () as line_number, line,
                    -- the line when it is a JSON object (functions below error on others)
                    case when json_valid(line) and json_type(line) = 'OBJECT'
                        then line end as object
                from read_csv({literal(str(file.path))}, columns = {{'line': 'VARCHAR'}},
                    header = false, delim = chr(30), quote = '', escape = '',
                    auto_detect = false, strict_mode = false, encoding = 'utf-8',
                    {reader_options(survey)})
            )
        )
        """
    )
    # Lines the reader rejected (invalid UTF-8, too long) are not in land_lines: number
    # the lines it kept as the file does, counting the skipped ones before each.
    con.execute(
        """
        update temp.land_lines set line_number = line_number + (
            select count(*) from (
                select line - row_number() over (order by line) as kept_before
                from (select distinct line from temp.land_rejects)
            ) where kept_before < land_lines.line_number
        )
        where exists (select 1 from temp.land_rejects)
        """
    )
    keys = [
        key
        for (key,) in con.execute(
            "select distinct unnest(case when is_record then json_keys(line) end) as key "
            "from temp.land_lines order by key"
        ).fetchall()
    ]
    existing = table_columns(con, file.entity.table)
    # A key may be spelled differently on different lines: group spellings by column.
    spellings: dict[str, list[str]] = {}
    known = {name.lower(): name for name in existing}
    for key in keys:
        spellings.setdefault(known.get(key.strip().lower(), key.strip()), []).append(key)
    mapping = match_columns(file.entity, list(spellings), existing)
    add_new_columns(con, file.entity.table, mapping, existing)
    values = [
        "coalesce("
        + ", ".join(
            f"case when is_record then "
            f"json_extract_string(line, {literal('$.' + identifier(key))}) end"
            for key in spellings[column]
        )
        + ", null)"
        for column in mapping
    ]
    insert_rows(con, file, load_id, loaded_at, mapping.values(), values,
                "temp.land_lines where is_record",
                row_number="row_number() over (order by line_number)")
    insert_rejects_from_reader(con, load_id, file)
    con.execute(
        f"""
        insert into raw._rejected_lines
        select {load_id}, {literal(file.entity.source)}, {literal(file.entity.name)},
            {literal(file.relative)}, line_number, reject_reason, line
        from temp.land_lines
        where not is_record and line is not null
        """
    )


def load_parquet(
    con: duckdb.DuckDBPyConnection, file: ExtractFile, load_id: int, loaded_at: str,
    survey: Survey,
) -> None:
    # Rows are numbered like a CSV file's (insertion order), not with read_parquet's
    # file_row_number, which a column of that name in the file would clash with.
    source = f"read_parquet({literal(str(file.path))})"
    try:
        described = con.execute(f"describe select * from {source}").fetchall()
    except duckdb.Error as error:
        raise FileRejected(f"is not a readable Parquet file ({one_line(error)})") from error
    existing = table_columns(con, file.entity.table)
    mapping = match_columns(file.entity, parquet_column_names(con, file.path), existing)
    add_new_columns(con, file.entity.table, mapping, existing)
    # Selected by DuckDB's names, in the same order (they differ where DuckDB renamed).
    insert_rows(con, file, load_id, loaded_at, mapping.values(),
                [f"cast({identifier(name)} as varchar)" for name, *_ in described], source)
    number_rows_in_file_order(con, file.entity.table, load_id)


def parquet_column_names(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Top-level column names as the file spells them: DuckDB's reader renames a name
    it has seen (`id` after `Id` becomes `id_1`), which would land a column by stealth."""
    elements = con.execute("select name, num_children from parquet_schema(?)",
                           [str(path)]).fetchall()

    def after(index: int) -> int:   # the element after this one and its descendants
        children = elements[index][1] or 0
        index += 1
        for _ in range(children):
            index = after(index)
        return index

    names, index = [], 1   # element 0 is the schema's root
    while index < len(elements):
        names.append(elements[index][0])
        index = after(index)
    return names


LOADERS: dict[str, Callable[..., None]] = {
    "csv": load_csv,
    "jsonl": load_jsonl,
    "parquet": load_parquet,
}


# --- every line accounted for ----------------------------------------------------------


def continuation_lines(text: str) -> str:
    """SQL: the lines after its first that a value (or a rejected record) spans, not
    counting blank lines inside it, as the file's blank lines are not counted either."""
    parts = f"string_split({text}, chr(10))"
    return (f"coalesce(len({parts}) - 1 - len(list_filter({parts}[2:-2], "
            "lambda part: part = '' or part = chr(13))), 0)")


def csv_lines(con: duckdb.DuckDBPyConnection, file: ExtractFile, survey: Survey,
              load_id: int, rows: int, rejected: int) -> tuple[int, int]:
    """(lines in the file, lines its header, rows and rejected lines account for)."""
    accounted = 1 + rows + rejected
    if accounted == survey.lines:
        return survey.lines, accounted   # one line per record, no blank line
    values = [identifier(name) for name in table_columns(con, file.entity.table)
              if name not in LOAD_COLUMNS]
    spans = " + ".join(continuation_lines(value) for value in values)
    with_line_ends = " or ".join(f"contains({value}, chr(10))" for value in values)
    accounted += con.execute(
        f"select coalesce(sum({spans}), 0) from raw.{file.entity.table} "
        f"where _load_id = ? and ({with_line_ends})", [load_id]).fetchone()[0]
    accounted += con.execute(
        f"select coalesce(sum({continuation_lines('raw_text')}), 0) "
        "from raw._rejected_lines where load_id = ?", [load_id]).fetchone()[0]
    if accounted == survey.lines:
        return survey.lines, accounted   # multi-line values, no blank line
    return survey.lines - blank_lines(file.path), accounted


def jsonl_lines(con: duckdb.DuckDBPyConnection, file: ExtractFile, survey: Survey,
                load_id: int, rows: int, rejected: int) -> tuple[int, int]:
    blank = con.execute("select count(*) from temp.land_lines where line is null").fetchone()[0]
    return survey.lines, rows + rejected + blank


def parquet_rows(con: duckdb.DuckDBPyConnection, file: ExtractFile, survey: Survey,
                 load_id: int, rows: int, rejected: int) -> tuple[int, int]:
    """(rows the file's footer declares, rows landed): Parquet has no lines."""
    declared = con.execute("select coalesce(sum(num_rows), 0) from parquet_file_metadata(?)",
                           [str(file.path)]).fetchone()[0]
    return declared, rows + rejected


# Per format: what the file is counted in, and how (in the file; by what landed).
ACCOUNTS = {"csv": ("lines", csv_lines), "jsonl": ("lines", jsonl_lines),
            "parquet": ("rows", parquet_rows)}


def check_accounting(con: duckdb.DuckDBPyConnection, file: ExtractFile, file_format: str,
                     survey: Survey, load_id: int, rows: int, rejected: int) -> None:
    """Every line of the file (every row of a Parquet file) is a landed row, a rejected
    line or blank; a file whose counts do not add up is refused whole rather than
    landed short."""
    unit, count = ACCOUNTS[file_format]
    in_file, accounted = count(con, file, survey, load_id, rows, rejected)
    if in_file != accounted:
        raise FileRejected(
            f"has {in_file:,} {unit} but its {rows:,} rows and {rejected:,} rejected lines "
            f"account for {accounted:,}; refused whole rather than landed wrong")


# --- one file ------------------------------------------------------------------------


def record_load(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    file: ExtractFile,
    digest: str | None,
    size: int,
    file_format: str | None,
    outcome: FileOutcome,
    started_at: str,
    signature: str | None,
) -> None:
    con.execute(
        "insert into raw._loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::timestamp, "
        "?::timestamp, ?)",
        [
            load_id,
            file.entity.source,
            file.entity.name,
            file.relative,
            digest,
            size,
            file_format,
            outcome.status,
            outcome.rows_landed,
            outcome.lines_rejected,
            outcome.message,
            started_at,
            utc_now(),
            signature,
        ],
    )


def utc_now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")


def land_file(con: duckdb.DuckDBPyConnection, file: ExtractFile) -> FileOutcome:
    label = file.entity.label
    outcome = FileOutcome(entity=label, path=file.relative, status="landed")
    started_at = utc_now()
    try:
        # Taken before reading: a write while the file is read changes it again.
        signature = file.stat_signature
        if con.execute("select count(*) from raw._loads where file_path = ? and file_stat = ? "
                       "and status in ('landed', 'empty')",
                       [file.relative, signature]).fetchone()[0]:
            outcome.status = "skipped"
            outcome.message = f"{file.relative}: already landed (unchanged since)"
            return outcome
        surveyed = survey_file(file.path)
    except OSError as error:
        outcome.status = "unreadable"
        outcome.message = f"{file.relative}: cannot be read ({error.strerror or error})"
        load_id = next_load_id(con)
        record_load(con, load_id, file, None, 0, None, outcome, started_at, None)
        return outcome
    size, digest = surveyed.size, surveyed.sha256
    outcome.size = size

    settled = con.execute(
        "select status from raw._loads where file_hash = ? and status in ('landed', 'empty') "
        "limit 1",
        [digest],
    ).fetchall()
    if settled:
        # Remembered, so that the next run need not read this file again.
        con.execute("update raw._loads set file_stat = ? where file_path = ? and file_hash = ? "
                    "and status in ('landed', 'empty')", [signature, file.relative, digest])
        outcome.status = "skipped"
        outcome.message = f"{file.relative}: already landed (same content)"
        return outcome

    file_format = FORMATS.get(file.path.suffix.lower())
    load_id = next_load_id(con)
    if file_format is None:
        outcome.status = "rejected"
        outcome.message = (
            f"{file.relative}: unsupported file type '{file.path.suffix}' "
            "(expected .csv, .jsonl or .parquet)"
        )
    elif size == 0:
        outcome.status = "empty"
        outcome.message = f"{file.relative}: empty file, nothing to land"
    if outcome.status != "landed":
        record_load(con, load_id, file, digest, size, file_format, outcome, started_at,
                    signature)
        return outcome

    loaded_at = started_at
    checkpoint("land-file")
    con.execute("begin transaction")
    try:
        LOADERS[file_format](con, file, load_id, loaded_at, surveyed)
        outcome.rows_landed = count_rows(
            con, f"raw.{file.entity.table}", load_id, id_column="_load_id"
        )
        outcome.lines_rejected = count_rows(con, "raw._rejected_lines", load_id)
        check_accounting(con, file, file_format, surveyed, load_id, outcome.rows_landed,
                         outcome.lines_rejected)
        if outcome.rows_landed == 0 and outcome.lines_rejected == 0:
            outcome.status = "empty"
            outcome.message = f"{file.relative}: no records, nothing to land"
        elif outcome.lines_rejected:
            outcome.message = (
                f"{file.relative}: {outcome.lines_rejected} malformed line(s) rejected, "
                "see raw._rejected_lines"
            )
        record_load(con, load_id, file, digest, size, file_format, outcome, started_at,
                    signature)
        checkpoint("land-before-commit")
        con.execute("commit")
        checkpoint("land-committed")
    except (FileRejected, duckdb.Error) as error:
        roll_back(con)
        if warehouse_cannot_write(error):
            raise CdpError(f"cannot write the warehouse {warehouse_path()} ({one_line(error)}); "
                           f"{file.relative} did not land; land again once there is room"
                           ) from error
        failed = FileOutcome(entity=label, path=file.relative, status="rejected", size=size)
        failed.message = f"{file.relative}: {one_line(error)}"
        if isinstance(error, duckdb.Error):
            failed.message = f"{file.relative}: could not be read ({one_line(error)})"
        record_load(con, load_id, file, digest, size, file_format, failed, started_at,
                    signature)
        return failed
    return outcome


def roll_back(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the file's transaction, unless DuckDB already did (after a failed
    write it has), so that the error reported is the cause, not the rollback."""
    try:
        con.execute("rollback")
    except duckdb.TransactionException:
        pass


# What DuckDB says when the warehouse cannot be written: the disk (or a quota or size
# limit) is full. The file is not at fault, so it is not recorded as rejected.
CANNOT_WRITE = ("No space left", "File too large", "Disk quota exceeded", "Could not write file")


def warehouse_cannot_write(error: Exception) -> bool:
    return isinstance(error, duckdb.Error) and any(text in str(error) for text in CANNOT_WRITE)


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select nextval('raw._load_id_seq')").fetchone()[0]


def count_rows(
    con: duckdb.DuckDBPyConnection, table: str, load_id: int, id_column: str = "load_id"
) -> int:
    query = f"select count(*) from {table} where {id_column} = ?"
    return con.execute(query, [load_id]).fetchone()[0]


# --- a whole landing root ------------------------------------------------------------


def land(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    on_file: Callable[[ExtractFile], None] | None = None,
    on_done: Callable[[FileOutcome], None] | None = None,
) -> LandReport:
    report = LandReport()
    files = discover(root, report.notices)
    warehouse.create_tables(con)
    for file in files:
        if on_file:
            on_file(file)
        outcome = land_file(con, file)
        report.outcomes.append(outcome)
        if on_done:
            on_done(outcome)
    return report


def plan(root: Path) -> tuple[list[ExtractFile], list[str]]:
    """The files `land` would consider, and the notices about what it would skip."""
    notices: list[str] = []
    return discover(root, notices), notices
