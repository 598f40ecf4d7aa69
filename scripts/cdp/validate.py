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

Files are read as a stream, one record at a time: memory stays flat whatever
their size.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from cdp.errors import CdpError
from cdp.sql import sha256_file
from cdp.subjects import DATA_SOURCE_NAME, INSIGHT_TIMESTAMP, INTERACTION_COLUMNS

TIMESTAMP = re.compile(INSIGHT_TIMESTAMP)
MANIFEST_SUFFIX = "_manifest.json"


@dataclass
class Violation:
    path: str        # relative to the checked folder
    line: int | None
    rule: str

    def line_text(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.rule}"

    def __str__(self) -> str:
        return self.line_text()


@dataclass
class Report:
    files: int = 0
    rows: int = 0
    violations: list[Violation] = field(default_factory=list)


@dataclass
class CsvFacts:
    rows: int


def validate_insight(folder: Path) -> Report:
    root = folder / "insight"
    if not root.is_dir():
        raise CdpError(f"{folder}: no insight/ folder to validate")
    report = Report()

    def violation(path: Path, line: int | None, rule: str) -> None:
        report.violations.append(Violation(str(path.relative_to(folder)), line, rule))

    counted: dict[Path, CsvFacts] = {}
    manifests: list[Path] = []
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
        facts = check_csv(path, lambda line, rule, p=path: violation(p, line, rule))
        report.rows += facts.rows
        counted[path] = facts

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
            if counted[path].rows != rows:
                violation(path, None, f"has {counted[path].rows} record(s), its manifest "
                          f"says {rows}")
            if sha256_file(path) != sha256:
                violation(path, None, "sha256 differs from its manifest's")
    for path in counted:
        if path not in listed:
            violation(path, None, "not listed in a manifest of its folder")
    return report


def check_csv(path: Path, violation) -> CsvFacts:
    """Stream one file's records through the rules; returns the record count."""
    with path.open("rb") as raw:
        if raw.read(3) == b"\xef\xbb\xbf":
            violation(1, "starts with a byte order mark: Insight reads UTF-8 without BOM")
    rows = 0
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            header = next(reader, None)
            if header is None:
                violation(1, "empty file: no header")
                return CsvFacts(0)
            header = [name.removeprefix("\ufeff") for name in header]
            check_header(header, violation)
            position = {name: index for index, name in reversed(list(enumerate(header)))}
            line = reader.line_num + 1
            for record in reader:
                rows += 1
                check_record(record, header, position, line, violation)
                line = reader.line_num + 1
    except UnicodeDecodeError as error:
        violation(None, f"not UTF-8: {error.reason} at byte {error.start}")
    except csv.Error as error:
        violation(None, f"not RFC 4180 CSV: {error}")
    return CsvFacts(rows)


def check_header(header: list[str], violation) -> None:
    if tuple(header[:4]) != INTERACTION_COLUMNS:
        violation(1, f"header must start with {','.join(INTERACTION_COLUMNS)}, "
                  f"starts with {','.join(header[:4])}")
    if any(not name.strip() for name in header):
        violation(1, "header has an empty or blank column name")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        violation(1, f"header repeats {', '.join(duplicates)}")


def check_record(record: list[str], header: list[str], position: dict[str, int], line: int,
                 violation) -> None:
    if len(record) != len(header):
        violation(line, f"{len(record)} field(s), the header has {len(header)}")
        return

    def value(name: str) -> str:
        index = position.get(name)
        return record[index] if index is not None else ""

    if not value("UniqueId"):
        violation(line, "UniqueId is empty")
    if not TIMESTAMP.fullmatch(value("Timestamp")):
        violation(line, f"Timestamp {value('Timestamp')!r} is not Insight's format "
                  "(UTC, e.g. 2021-02-01T09:15:33.250Z)")
    if value("Object") and not value("Predicate"):
        violation(line, "an Object without a Predicate: an interaction needs a Predicate, "
                  "a contact-property record leaves both empty")
