"""`cdp validate insight <folder>`: exported Insight files checked against Insight's
"CSV files format" and "Data sources" pages, and against their manifests.

Rules, each named in the violation it reports:
- only import files live under `insight/`: `<DataSource>/<import_type>/<name>.csv`
  and the runs' `_manifest.json` files;
- the data source folder is an Insight data source name (at most 32 characters of
  A-Z a-z 0-9 _ . -);
- a file is UTF-8 without a byte order mark, RFC 4180 quoted;
- its header starts with UniqueId,Predicate,Object,Timestamp, and has no empty,
  blank or duplicate column name;
- every record has the header's number of fields, a UniqueId and a Timestamp in
  Insight's format (UTC, milliseconds, `Z`); an interaction has a Predicate (an
  Object without one is neither an interaction nor a contact property);
- every file is listed in a manifest of its folder, whose row count and sha256 are
  the file's.

Python reads the header; DuckDB reads the records (`read_csv` with the header's
columns, strict RFC 4180, malformed records kept in a rejects table) and finds the
ones that break a rule, so a file of millions of rows is checked at DuckDB's speed.
A violation names the record as DuckDB and `raw._rejected_lines` count them: the
header is record 1. At most SHOWN records are listed per rule and file, then how
many more.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp.errors import CdpError
from cdp.files import sha256_file
from cdp.insight_format import DATA_SOURCE_NAME, INSIGHT_TIMESTAMP, INTERACTION_COLUMNS
from cdp.sql import literal

MANIFEST_SUFFIX = "_manifest.json"
SHOWN = 20
HEADER_BYTES = 1 << 20
# Record rules, over the interaction columns u(niqueId), p(redicate), o(bject),
# t(imestamp): the violation's text and the SQL that finds a breaking record.
RECORD_RULES = [
    ("UniqueId is empty", "coalesce(u, '') = ''"),
    ("Timestamp is not Insight's format (UTC, e.g. 2021-02-01T09:15:33.250Z)",
     f"not regexp_full_match(coalesce(t, ''), {literal(INSIGHT_TIMESTAMP)})"),
    (("an Object without a Predicate: an interaction needs a Predicate, a "
      "contact-property record leaves both empty"),
     "coalesce(o, '') <> '' and coalesce(p, '') = ''"),
]
# DuckDB's reasons for a malformed record, in the rules' words.
MALFORMED = {
    "INVALID ENCODING": "not UTF-8",
    "INVALID UNICODE": "not UTF-8",
    "MISSING COLUMNS": "wrong number of fields",
    "TOO MANY COLUMNS": "wrong number of fields",
    "UNQUOTED VALUE": "not RFC 4180 quoting",
    "LINE SIZE OVER MAXIMUM": "record too long to read",
}


@dataclass
class Violation:
    path: str        # relative to the checked folder
    line: int | None
    rule: str

    def line_text(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.rule}"


@dataclass
class Report:
    files: int = 0
    rows: int = 0
    violations: list[Violation] = field(default_factory=list)


def validate_insight(folder: Path) -> Report:
    root = folder / "insight"
    if not root.is_dir():
        raise CdpError(f"{folder}: no insight/ folder to validate")
    report = Report()

    def violation(path: Path, line: int | None, rule: str) -> None:
        report.violations.append(Violation(str(path.relative_to(folder)), line, rule))

    counted: dict[Path, int] = {}
    manifests: list[Path] = []
    con = duckdb.connect()
    for path in sorted(root.rglob("*")):
        if path.is_dir():
            continue
        parts = path.relative_to(root).parts
        if len(parts) != 3 or not (path.name.endswith(".csv")
                                   or path.name.endswith(MANIFEST_SUFFIX)):
            violation(path, None, "not an Insight import file: only "
                      "<DataSource>/<import_type>/<file>.csv and manifests belong under insight/")
            continue
        if not DATA_SOURCE_NAME.fullmatch(parts[0]):
            violation(path, None, f"data source {parts[0]!r} is not an Insight data source "
                      "name (at most 32 characters of A-Z a-z 0-9 _ . -)")
        if path.name.endswith(MANIFEST_SUFFIX):
            manifests.append(path)
            continue
        report.files += 1
        records = check_csv(con, path, len(counted),
                            lambda line, rule, p=path: violation(p, line, rule))
        report.rows += records
        counted[path] = records
    con.close()

    listed: set[Path] = set()
    for manifest in manifests:
        try:
            described = json.loads(manifest.read_text(encoding="utf-8"))
            entries = [(entry["name"], int(entry["rows"]), entry["sha256"])
                       for entry in described["files"]]
        except (ValueError, KeyError, TypeError) as error:
            violation(manifest, None, f"manifest is not readable: {error}")
            continue
        for name, rows, sha256 in entries:
            path = manifest.parent / name
            listed.add(path)
            if path not in counted:
                violation(manifest, None, f"lists {name}, which is not there")
                continue
            if counted[path] != rows:
                violation(path, None, f"has {counted[path]} record(s), its manifest "
                          f"says {rows}")
            if sha256_file(path) != sha256:
                violation(path, None, "sha256 differs from its manifest's")
    for path in counted:
        if path not in listed:
            violation(path, None, "not listed in a manifest of its folder")
    report.violations.sort(key=lambda v: (v.path, v.line or 0))
    return report


def check_csv(con: duckdb.DuckDBPyConnection, path: Path, number: int, violation) -> int:
    """One file through the rules; returns its record count (header excluded)."""
    with path.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    if head.startswith(b"\xef\xbb\xbf"):
        violation(1, "starts with a byte order mark: Insight reads UTF-8 without BOM")
    try:
        header = next(csv.reader(io.StringIO(head.decode("utf-8-sig", errors="replace"),
                                             newline="")), None)
    except csv.Error as error:
        violation(1, f"the header is not RFC 4180 CSV: {error}")
        return 0
    if not header:
        violation(1, "empty file: no header")
        return 0
    check_header(header, violation)
    position = {name: index for index, name in reversed(list(enumerate(header)))}
    columns = {f"c{index}": "VARCHAR" for index in range(len(header))}

    def column(name: str) -> str:
        return f"c{position[name]}" if name in position else "cast(null as varchar)"

    rejects, scans = f"rejects_{number}", f"scans_{number}"
    options = (f"header = true, auto_detect = false, columns = {columns}, delim = ',', "
               "quote = '\"', escape = '\"', strict_mode = true, null_padding = false")
    selected = (f"{column('UniqueId')} as u, {column('Predicate')} as p, "
                f"{column('Object')} as o, {column('Timestamp')} as t")
    breaks = " or ".join(f"({sql})" for _, sql in RECORD_RULES)
    try:
        # One pass counts records and breaking ones, keeping malformed records aside;
        # only a file with breaking records is read again to number them (keeping
        # malformed records aside the same way: `ignore_errors` stops at the first).
        readable, broken = con.execute(f"""
            select count(*), count(*) filter (where {breaks})
            from (select {selected} from read_csv({literal(str(path))}, {options},
                store_rejects = true, rejects_table = {literal(rejects)},
                rejects_scan = {literal(scans)}))""").fetchall()[0]
        con.execute(f"""create or replace temp table breaking as
            select * from (
                select row_number() over () as readable, {selected}
                from read_csv({literal(str(path))}, {options}, store_rejects = true,
                    rejects_table = {literal(rejects + "_again")},
                    rejects_scan = {literal(scans + "_again")}))
            where {breaks if broken else 'false'}""")
    except duckdb.Error as error:
        violation(None, f"not readable as CSV: {' '.join(str(error).split())}")
        return 0
    malformed = con.execute(
        f"select line, arg_min(error_type, column_idx), arg_min(error_message, column_idx) "
        f"from {rejects} group by line order by line").fetchall()
    for line, error_type, message in malformed[:SHOWN]:
        reason = MALFORMED.get(str(error_type), "malformed record")
        violation(line, f"{reason}: {message}")
    if len(malformed) > SHOWN:
        violation(None, f"{len(malformed) - SHOWN} more malformed record(s)")
    if broken:
        report_breaking(con, [row[0] for row in malformed], readable, violation)
    return readable + len(malformed)


def report_breaking(con: duckdb.DuckDBPyConnection, malformed: list[int], readable: int,
                    violation) -> None:
    """The records that break a rule, by record number: readable records are numbered
    from 2, skipping the malformed ones."""
    con.execute("""create or replace temp table record_numbers as
        select record, row_number() over (order by record) as readable
        from range(2, ? + 2) as numbers(record)
        where record not in (select unnest(?::bigint[]))""",
                [readable + len(malformed), malformed])
    for rule, sql in RECORD_RULES:
        found, shown = con.execute(f"""
            select count(*), list({{'record': record, 't': t}} order by record)[1:{SHOWN}]
            from breaking join record_numbers using (readable) where {sql}""").fetchone()
        for record in shown or []:
            detail = f" ({record['t']!r})" if rule.startswith("Timestamp") else ""
            violation(record["record"], rule.replace(" is not", f"{detail} is not", 1))
        if found > SHOWN:
            violation(None, f"{found - SHOWN} more record(s): {rule}")
    con.execute("drop table record_numbers")


def check_header(header: list[str], violation) -> None:
    if tuple(header[:4]) != INTERACTION_COLUMNS:
        violation(1, f"header must start with {','.join(INTERACTION_COLUMNS)}, "
                  f"starts with {','.join(header[:4])}")
    if any(not name.strip() for name in header):
        violation(1, "header has an empty or blank column name")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        violation(1, f"header repeats {', '.join(duplicates)}")
