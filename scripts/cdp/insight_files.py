"""Insight import files: the rows of an import type written by DuckDB `COPY` as CSV in
Insight's format, split at a row count, with a manifest. The destination adapters
(local folder, Azure Blob Storage, SFTP) move these files; nothing here goes through
Python rows.

Format (SPEC section 5): UTF-8 without BOM, a header row of the Insight columns,
RFC 4180 quoting, `Timestamp` as UTC ISO 8601 with milliseconds and `Z`, and no cell
a spreadsheet would read as a formula: text starting with `=`, `@`, a tab or a
carriage return, or with `+`/`-` when it is not a number or a phone number, gets a
leading apostrophe; `+44 20 7946 0958` and `-12.50` stay as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp.sql import identifier, sha256_file

DEFAULT_MAX_ROWS = 5_000_000

# A number or a phone number: an optional sign, then digits, spaces and the
# punctuation phone numbers use.
NUMBER_OR_PHONE = r"^[+-]?[0-9][0-9 ().,/-]*$"


def safe_text(expression: str) -> str:
    """SQL that neutralises formula-like text (see the module docstring)."""
    return (
        f"case when regexp_matches({expression}, '^[=@\\t\\r]') "
        f"or (regexp_matches({expression}, '^[+-]') "
        f"and not regexp_matches({expression}, '{NUMBER_OR_PHONE}')) "
        f"then '''' || {expression} else {expression} end"
    )


def insight_timestamp(expression: str) -> str:
    return f"strftime({expression}, '%Y-%m-%dT%H:%M:%S.%gZ')"


@dataclass
class WrittenFile:
    path: Path
    rows: int
    sha256: str


@dataclass
class InsightExport:
    import_type: str
    files: list[WrittenFile] = field(default_factory=list)
    manifest: Path | None = None

    @property
    def rows(self) -> int:
        return sum(written.rows for written in self.files)


def write_insight_files(
    con: duckdb.DuckDBPyConnection,
    import_type: str,
    relation: str,
    columns: list[str],
    folder: Path,
    stamp: str,
    max_rows: int = DEFAULT_MAX_ROWS,
    order_by: str = "_source_key",
) -> InsightExport:
    """Write `columns` of `relation` (a table, view or parenthesised query) as
    `<import_type>_<stamp>_<part>.csv` files of at most `max_rows` rows each, then the
    manifest `<import_type>_<stamp>_manifest.json` last."""
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    folder.mkdir(parents=True, exist_ok=True)
    cells = []
    for column in columns:
        source = identifier(column)
        if column == "Timestamp":
            cells.append(f"{insight_timestamp(source)} as {source}")
        else:
            cells.append(f"{safe_text(f'cast({source} as varchar)')} as {source}")
    con.execute(f"""
        create or replace temp table insight_export_rows as
        select
            {', '.join(cells)},
            (row_number() over (order by {order_by}) - 1) // {max_rows} as _part,
            min("Timestamp") over () as _first_timestamp,
            max("Timestamp") over () as _last_timestamp
        from {relation}
    """)
    parts, first, last = con.execute(
        "select count(distinct _part), min(_first_timestamp), max(_last_timestamp) "
        "from insight_export_rows"
    ).fetchone()
    export = InsightExport(import_type)
    header = ", ".join(identifier(column) for column in columns)
    for part in range(parts):
        path = folder / f"{import_type}_{stamp}_{part + 1:04d}.csv"
        con.execute(
            f"copy (select {header} from insight_export_rows where _part = {part} "
            f"order by all) to '{path}' (format csv, header true, delimiter ',', "
            "quote '\"', escape '\"')"
        )
        rows = con.execute(
            f"select count(*) from insight_export_rows where _part = {part}"
        ).fetchone()[0]
        export.files.append(WrittenFile(path, rows, sha256_file(path)))
    con.execute("drop table insight_export_rows")
    manifest = folder / f"{import_type}_{stamp}_manifest.json"
    manifest.write_text(json.dumps({
        "import_type": import_type,
        "files": [
            {"name": written.path.name, "rows": written.rows, "sha256": written.sha256}
            for written in export.files
        ],
        "rows": export.rows,
        "watermark_range": [
            first.isoformat(timespec="milliseconds") + "Z" if first else None,
            last.isoformat(timespec="milliseconds") + "Z" if last else None,
        ],
    }, indent=2) + "\n")
    export.manifest = manifest
    return export
