"""Golden tests of every exported file type: Insight CSVs, Insight delete requests,
segment files and Campaign log windows, exported by the real engine from hand-made
tables to a local folder. Every Insight folder written is checked with
`cdp validate insight` too."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from cdp.destinations import open_destination
from cdp.errors import CdpError
from cdp.export import Progress, export_subject
from cdp.files import FollowedWrite
from cdp.subjects import (
    deletions_subject,
    insight_subject,
    insight_subjects,
    log_subject,
    segment_subject,
)
from cdp.validate import validate_insight
from cdp.warehouse import create_tables

TICKET_COLUMNS = ["UniqueId", "Predicate", "Object", "Timestamp", "Email"]
TICKETS = [
    ("S1", "Support Case", "Refund, order 12", datetime(2021, 2, 1, 9, 15, 33, 250000), "ann@example.com", "t1"),
    ("S2", "Support Case", 'Error "500"\non checkout', datetime(2021, 2, 1, 9, 15, 33), None, "t2"),
    ("S3", "Support Case", "=HYPERLINK(\"http://x\")", datetime(2021, 2, 2), "bob@example.com", "t3"),
    ("S4", "Support Case", "-12.50", datetime(2021, 2, 3), "+44 20 7946 0958", "t4"),
    ("S5", "Support Case", "+SUM(A1)", datetime(2021, 2, 4), "@cmd", "t5"),
    ("S6", "Support Case", "\tTabbed", datetime(2021, 2, 5), "-x", "t6"),
]


@pytest.fixture
def con(warehouse):
    create_tables(warehouse)
    warehouse.execute("create schema insight")
    warehouse.execute("""
        create table insight.support_tickets (
            "UniqueId" varchar, "Predicate" varchar, "Object" varchar, "Timestamp" timestamp,
            "Email" varchar, _source_key varchar, _first_landed bigint, _hwm_load_id bigint
        )
    """)
    warehouse.executemany("insert into insight.support_tickets values (?, ?, ?, ?, ?, ?, ?, 1)",
                          [(*row, 10_000_000_000 + n) for n, row in enumerate(TICKETS)])
    return warehouse


def tickets(max_rows: int = 100, spreadsheet_safe: bool = False):
    return insight_subject("support_tickets", "Support", TICKET_COLUMNS, max_rows,
                           interactions=True, spreadsheet_safe=spreadsheet_safe)


def assert_valid(folder: Path) -> None:
    report = validate_insight(folder)
    assert report.violations == [] and report.files


def export(con, subject, folder: Path):
    destination = open_destination(str(folder))
    destination.check()
    return export_subject(con, destination, subject, False, False, Progress(),
                          now=lambda: datetime(2021, 2, 5))


def test_an_insight_file_is_exactly_insight_format(con, tmp_path):
    outcome = export(con, tickets(), tmp_path / "out")
    folder = tmp_path / "out" / "insight" / "Support" / "support_tickets"
    assert sorted(p.name for p in folder.iterdir()) == [
        "support_tickets_20210205T000000Z_0001.csv",
        "support_tickets_20210205T000000Z_manifest.json",
    ]
    data = (folder / "support_tickets_20210205T000000Z_0001.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    # Insight's layout: the interaction columns first, client metadata after them.
    assert text.splitlines()[0] == "UniqueId,Predicate,Object,Timestamp,Email"
    assert 'S1,Support Case,"Refund, order 12",2021-02-01T09:15:33.250Z,ann@example.com' in text
    assert 'S2,Support Case,"Error ""500""\non checkout",2021-02-01T09:15:33.000Z,\n' in text
    records = list(csv.reader(text.splitlines(keepends=True)))
    # Values reach Insight exactly as they are.
    assert records[1:] == [
        ["S1", "Support Case", "Refund, order 12", "2021-02-01T09:15:33.250Z", "ann@example.com"],
        ["S2", "Support Case", 'Error "500"\non checkout', "2021-02-01T09:15:33.000Z", ""],
        ["S3", "Support Case", "=HYPERLINK(\"http://x\")", "2021-02-02T00:00:00.000Z",
         "bob@example.com"],
        ["S4", "Support Case", "-12.50", "2021-02-03T00:00:00.000Z", "+44 20 7946 0958"],
        ["S5", "Support Case", "+SUM(A1)", "2021-02-04T00:00:00.000Z", "@cmd"],
        ["S6", "Support Case", "\tTabbed", "2021-02-05T00:00:00.000Z", "-x"],
    ]
    assert outcome.rows == 6
    assert_valid(tmp_path / "out")


def test_spreadsheet_safe_files_escape_what_a_spreadsheet_would_run(con, tmp_path):
    export(con, tickets(spreadsheet_safe=True), tmp_path)
    [path] = (tmp_path / "insight" / "Support" / "support_tickets").glob("*.csv")
    records = list(csv.reader(path.open(newline="")))
    assert records[1:] == [
        ["S1", "Support Case", "Refund, order 12", "2021-02-01T09:15:33.250Z", "ann@example.com"],
        ["S2", "Support Case", 'Error "500"\non checkout', "2021-02-01T09:15:33.000Z", ""],
        ["S3", "Support Case", "'=HYPERLINK(\"http://x\")", "2021-02-02T00:00:00.000Z",
         "bob@example.com"],
        ["S4", "Support Case", "-12.50", "2021-02-03T00:00:00.000Z", "+44 20 7946 0958"],
        ["S5", "Support Case", "'+SUM(A1)", "2021-02-04T00:00:00.000Z", "'@cmd"],
        ["S6", "Support Case", "'\tTabbed", "2021-02-05T00:00:00.000Z", "'-x"],
    ]


def test_deletions_are_insight_delete_request_bodies_outside_the_import_tree(con, tmp_path):
    con.execute("""create table insight.crm_contact_deletions as select * from (values
        ('C1', timestamp '2021-02-01 00:00:00', 'C1'), ('C"2', timestamp '2021-02-02', 'C"2'),
        ('C3', timestamp '2021-02-03', 'C3'), ('C4', timestamp '2021-02-04', 'C4'))
        as t("UniqueId", "Timestamp", _source_key)""")
    # C4 was created again after its deletion: it exists, nothing to delete.
    con.execute("""create table insight.crm_contacts as
        select 'C4' as "UniqueId", 'C4' as _source_key""")
    outcome = export(con, deletions_subject("CRM", batch=2), tmp_path)
    assert outcome.rows == 3
    folder = tmp_path / "insight-delete-requests" / "CRM"
    bodies = sorted(folder.glob("*_000?.json"))
    assert [p.name for p in bodies] == ["crm_contact_deletions_20210205T000000Z_0001.json",
                                        "crm_contact_deletions_20210205T000000Z_0002.json"]
    # Each file is the body of one POST /analytics/v1/contacts/delete-requests.
    subjects = [subject for body in bodies for subject in json.loads(body.read_text())]
    assert sorted(subjects, key=lambda s: s["Subject"]) == [
        {"Subject": 'C"2', "DataSource": "CRM"}, {"Subject": "C1", "DataSource": "CRM"},
        {"Subject": "C3", "DataSource": "CRM"}]
    assert not (tmp_path / "insight").exists()
    assert export(con, deletions_subject("CRM", batch=2), tmp_path).status == "nothing new"


def test_files_split_at_the_row_limit_and_the_manifest_describes_them(con, tmp_path):
    export(con, tickets(max_rows=4), tmp_path)
    folder = tmp_path / "insight" / "Support" / "support_tickets"
    parts = sorted(folder.glob("*.csv"))
    assert [p.name for p in parts] == ["support_tickets_20210205T000000Z_0001.csv",
                                       "support_tickets_20210205T000000Z_0002.csv"]
    counts = []
    for part in parts:
        lines = list(csv.reader(part.open(newline="")))
        assert lines[0] == TICKET_COLUMNS
        counts.append(len(lines) - 1)
    assert counts == [4, 2]
    manifest = json.loads((folder / "support_tickets_20210205T000000Z_manifest.json").read_text())
    assert_valid(tmp_path)
    assert manifest == {
        "kind": "insight",
        "subject": "support_tickets",
        "stamp": "20210205T000000Z",
        "rows": 6,
        "files": [
            {"name": part.name, "rows": count, "bytes": part.stat().st_size,
             "sha256": hashlib.sha256(part.read_bytes()).hexdigest()}
            for part, count in zip(parts, counts, strict=True)
        ],
        "watermark_range": ["2021-02-01T09:15:33.000Z", "2021-02-05T00:00:00.000Z"],
    }


def test_a_segment_file_has_the_campaign_header(con, tmp_path):
    con.execute("create schema campaign")
    con.execute("""
        create table campaign.segment_membership as select * from (values
            ('vip', 'R1', 'VIPs, "gold"', 'K1', 'ann@example.com', 'realized',
             timestamp '2021-02-01 10:00:00.5'),
            ('vip', 'R2', 'VIPs, "gold"', 'K2', '=cmd@example.com', 'realized',
             timestamp '2021-02-01 10:00:00')
        ) as t(segment_id, recipient_id, segment_name, contact_key, email, status,
               status_changed_at)
    """)
    export(con, segment_subject("vip"), tmp_path)
    [path] = (tmp_path / "campaign" / "segments" / "vip").glob("*.csv")
    assert path.name == "vip_20210205T000000Z_0001.csv"
    assert sorted(path.read_text().splitlines()[1:]) == sorted((
        "RecipientId,Email,SegmentId,SegmentName,Status,StatusChangedAt\n"
        'R1,ann@example.com,vip,"VIPs, ""gold""",realized,2021-02-01T10:00:00.500Z\n'
        'R2,=cmd@example.com,vip,"VIPs, ""gold""",realized,2021-02-01T10:00:00.000Z\n'
    ).splitlines()[1:])
    assert path.read_text().startswith(
        "RecipientId,Email,SegmentId,SegmentName,Status,StatusChangedAt\n")
    assert (path.parent / "vip_20210205T000000Z_manifest.json").exists()
    # Split at max_rows, gzip-compressed on demand.
    export(con, segment_subject("vip", max_rows=1, gzip=True), tmp_path / "parts")
    parts = sorted((tmp_path / "parts" / "campaign" / "segments" / "vip").glob("*.csv.gz"))
    assert [p.name for p in parts] == ["vip_20210205T000000Z_0001.csv.gz",
                                       "vip_20210205T000000Z_0002.csv.gz"]
    assert [len(gzip.decompress(p.read_bytes()).splitlines()) for p in parts] == [2, 2]
    export(con, segment_subject("vip", spreadsheet_safe=True), tmp_path / "safe")
    [safe] = (tmp_path / "safe" / "campaign" / "segments" / "vip").glob("*.csv")
    assert "R2,'=cmd@example.com,vip," in safe.read_text()


@pytest.fixture
def broad_log(con):
    """campaign.broad_log with the columns its YAML names an XDM field for."""
    con.execute("create schema campaign")
    con.execute("""
        create table campaign.broad_log as select
            'broadlog:' || broadlog_id || ':' || event_type as event_id, event_at,
            event_type, broadlog_id, 'R' || broadlog_id as recipient_id,
            null::varchar as contact_key, address, 'email' as channel,
            'D1' as delivery_id, 'Spring sale' as delivery_label, status,
            null::integer as failure_reason_code, null::varchar as failure_reason, load_id
        from (values
            ('B1', timestamp '2021-02-01 01:00:00', 'directMarketing.emailSent', 'a@example.com',
             'Sent', 7::bigint),
            ('B2', timestamp '2021-02-01 05:30:00', 'directMarketing.emailBounced',
             'b@example.com', 'Failed', 7::bigint),
            ('B3', now()::timestamp, 'directMarketing.emailSent', 'c@example.com', 'Sent',
             8::bigint)
        ) as t(broadlog_id, event_at, event_type, address, status, load_id)
    """)
    return con


XDM_BROAD_LOG = (
    "_id,timestamp,eventType,_experience.campaign.broadlogID,_experience.campaign.recipientID,"
    "_experience.campaign.externalID,endUserIDs._experience.emailid.id,"
    "_experience.campaign.channel,_experience.campaign.deliveryID,"
    "_experience.campaign.deliveryLabel,_experience.campaign.status,"
    "_experience.campaign.reason,_experience.campaign.reasonMessage")


def test_log_windows_are_closed_windows_one_file_each_with_xdm_field_names(broad_log, tmp_path):
    outcome = export(broad_log, log_subject(broad_log, "broad_log", "broadlog_id", 4, "csv"),
                     tmp_path)
    folder = tmp_path / "campaign" / "logs" / "broad_log"
    files = sorted(p.name for p in folder.glob("*.csv"))
    # B3 is in the window still open: it waits.
    assert files == ["broad_log_20210201T000000Z_20210205T000000Z.csv",
                     "broad_log_20210201T040000Z_20210205T000000Z.csv"]
    assert (folder / files[1]).read_text() == (
        f"{XDM_BROAD_LOG}\n"
        "broadlog:B2:directMarketing.emailBounced,2021-02-01T05:30:00.000Z,"
        "directMarketing.emailBounced,B2,RB2,,b@example.com,email,D1,Spring sale,Failed,,\n"
    )
    assert outcome.rows == 2


def test_log_windows_as_parquet_keep_their_types(broad_log, tmp_path):
    export(broad_log, log_subject(broad_log, "broad_log", "broadlog_id", 24, "parquet"), tmp_path)
    [path] = (tmp_path / "campaign" / "logs" / "broad_log").glob("*.parquet")
    rows = duckdb.sql(f'select "timestamp", eventType, "_experience.campaign.broadlogID" '
                      f"from '{path}' order by all").fetchall()
    assert rows == [(datetime(2021, 2, 1, 1), "directMarketing.emailSent", "B1"),
                    (datetime(2021, 2, 1, 5, 30), "directMarketing.emailBounced", "B2")]


def test_a_log_table_without_a_declared_column_asks_for_a_rebuild(broad_log):
    broad_log.execute("alter table campaign.broad_log drop column channel")
    with pytest.raises(CdpError, match="campaign.broad_log has no column channel: rebuild it"):
        log_subject(broad_log, "broad_log", "broadlog_id", 4, "csv")


def test_a_late_log_record_and_a_changed_one_go_out_once_in_their_window(broad_log, tmp_path):
    subject = log_subject(broad_log, "broad_log", "broadlog_id", 4, "csv")
    export(broad_log, subject, tmp_path)
    # B0 lands late in the first window; B2 changes; B1 is delivered again unchanged.
    broad_log.execute("""insert into campaign.broad_log by name select
        'broadlog:B0:directMarketing.emailSent' as event_id,
        timestamp '2021-02-01 02:00:00' as event_at, 'directMarketing.emailSent' as event_type,
        'B0' as broadlog_id, 'z@example.com' as address, 9 as load_id""")
    broad_log.execute("update campaign.broad_log set status = 'Sent' where broadlog_id = 'B2'")
    second = export(broad_log, subject, tmp_path)
    assert second.rows == 2
    folder = tmp_path / "campaign" / "logs" / "broad_log"
    late = sorted(folder.glob("broad_log_20210201T000000Z_*.csv"))
    assert len(late) == 2 and late[1].read_text().splitlines()[1].startswith("broadlog:B0:")
    changed = sorted(folder.glob("broad_log_20210201T040000Z_*.csv"))
    assert len(changed) == 2 and ",Spring sale,Sent," in changed[1].read_text()
    assert export(broad_log, subject, tmp_path).status == "nothing new"


def test_a_table_built_in_the_older_column_order_still_exports_insights_layout(con, tmp_path):
    # Built before the layout change, then given Predicate and Object at its end
    # (dbt's append_new_columns).
    con.execute("""create table insight.crm_contacts as select * from (values
        ('C1', '@home', '=1+2', timestamp '2021-02-01 00:00:00', 'C1', null, null))
        as t("UniqueId", "Email", "Address", "Timestamp", _source_key, "Predicate", "Object")""")
    [subject] = insight_subjects(con, ["crm_contacts"], 100)
    export(con, subject, tmp_path)
    [path] = (tmp_path / "insight" / "CRM" / "crm_contacts").glob("*.csv")
    assert path.read_text().splitlines() == [
        "UniqueId,Predicate,Object,Timestamp,Email,Address",
        "C1,,,2021-02-01T00:00:00.000Z,@home,=1+2"]
    assert_valid(tmp_path)
    con.execute('alter table insight.crm_contacts drop column "Predicate"')
    with pytest.raises(CdpError, match="has no column Predicate: rebuild it with `dbt build "
                       "--full-refresh --select crm_contacts`"):
        insight_subjects(con, ["crm_contacts"], 100)


@pytest.mark.parametrize("make", [
    lambda: insight_subject("../escape", "CRM", ["UniqueId"], 10, interactions=False),
    lambda: insight_subject("crm_contacts", "..", ["UniqueId"], 10, interactions=False),
    lambda: segment_subject("../../etc"),
    lambda: deletions_subject(".."),
])
def test_no_configured_name_leads_outside_the_destination(make):
    with pytest.raises(CdpError, match="would lead outside the destination"):
        make()


def test_a_staged_file_written_out_of_order_gets_the_hash_of_its_content(tmp_path):
    """DuckDB's parallel writer may fill a file out of order; a hash taken while the
    file grew would read the hole as zeros and list a hash no receiver can match."""
    path = tmp_path / "part.csv"
    following = FollowedWrite(path)
    first, second = b"a" * 100_000, b"b" * 100_000
    with path.open("wb") as handle:
        os.pwrite(handle.fileno(), second, len(first))   # the second half first
        time.sleep(0.2)                                     # read while the hole is there
        os.pwrite(handle.fileno(), first, 0)
    assert following.finish() == hashlib.sha256(first + second).hexdigest()
