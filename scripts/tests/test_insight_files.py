"""Insight import files: golden tests of the format."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import datetime

import duckdb
import pytest

from cdp.insight_files import write_insight_files

COLUMNS = ["UniqueId", "Email", "Predicate", "Object", "Timestamp"]


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("""
        create table tickets (
            "UniqueId" varchar, "Email" varchar, "Predicate" varchar, "Object" varchar,
            "Timestamp" timestamp, _source_key varchar
        )
    """)
    rows = [
        ("S1", "ann@example.com", "Support Case", "Refund, order 12", datetime(2021, 2, 1, 9, 15, 33, 250000), "t1"),
        ("S2", None, "Support Case", 'Error "500"\non checkout', datetime(2021, 2, 1, 9, 15, 33), "t2"),
        ("S3", "bob@example.com", "Support Case", "=HYPERLINK(\"http://x\")", datetime(2021, 2, 2), "t3"),
        ("S4", "+44 20 7946 0958", "Support Case", "-12.50", datetime(2021, 2, 3), "t4"),
        ("S5", "@cmd", "Support Case", "+SUM(A1)", datetime(2021, 2, 4), "t5"),
        ("S6", "-x", "Support Case", "\tTabbed", datetime(2021, 2, 5), "t6"),
    ]
    connection.executemany("insert into tickets values (?, ?, ?, ?, ?, ?)", rows)
    yield connection
    connection.close()


def test_the_file_is_exactly_insight_format(con, tmp_path):
    export = write_insight_files(con, "support_tickets", "tickets", COLUMNS, tmp_path,
                                 "20210205T000000Z")
    assert [written.path.name for written in export.files] == [
        "support_tickets_20210205T000000Z_0001.csv"]
    data = export.files[0].path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    assert text.splitlines()[0] == "UniqueId,Email,Predicate,Object,Timestamp"
    assert 'S1,ann@example.com,Support Case,"Refund, order 12",2021-02-01T09:15:33.250Z' in text
    assert 'S2,,Support Case,"Error ""500""\non checkout",2021-02-01T09:15:33.000Z' in text
    records = list(csv.reader(text.splitlines(keepends=True)))
    assert records[1:] == [
        ["S1", "ann@example.com", "Support Case", "Refund, order 12", "2021-02-01T09:15:33.250Z"],
        ["S2", "", "Support Case", 'Error "500"\non checkout', "2021-02-01T09:15:33.000Z"],
        ["S3", "bob@example.com", "Support Case", "'=HYPERLINK(\"http://x\")",
         "2021-02-02T00:00:00.000Z"],
        ["S4", "+44 20 7946 0958", "Support Case", "-12.50", "2021-02-03T00:00:00.000Z"],
        ["S5", "'@cmd", "Support Case", "'+SUM(A1)", "2021-02-04T00:00:00.000Z"],
        ["S6", "'-x", "Support Case", "'\tTabbed", "2021-02-05T00:00:00.000Z"],
    ]


def test_files_split_at_the_row_limit_and_the_manifest_describes_them(con, tmp_path):
    export = write_insight_files(con, "support_tickets", "tickets", COLUMNS, tmp_path,
                                 "20210205T000000Z", max_rows=4)
    assert [(written.path.name, written.rows) for written in export.files] == [
        ("support_tickets_20210205T000000Z_0001.csv", 4),
        ("support_tickets_20210205T000000Z_0002.csv", 2),
    ]
    for written in export.files:
        lines = list(csv.reader(written.path.open(newline="")))
        assert lines[0] == COLUMNS and len(lines) == written.rows + 1
    manifest = json.loads(export.manifest.read_text())
    assert manifest == {
        "import_type": "support_tickets",
        "files": [
            {"name": written.path.name, "rows": written.rows,
             "sha256": hashlib.sha256(written.path.read_bytes()).hexdigest()}
            for written in export.files
        ],
        "rows": 6,
        "watermark_range": ["2021-02-01T09:15:33.000Z", "2021-02-05T00:00:00.000Z"],
    }


def test_a_bad_row_limit_is_refused(con, tmp_path):
    with pytest.raises(ValueError, match="max_rows"):
        write_insight_files(con, "x", "tickets", COLUMNS, tmp_path, "s", max_rows=0)
