"""`cdp land`: every rule of SPEC section 3, one test each."""

from __future__ import annotations

import os

import pytest

from cdp import land as land_module
from cdp.land import land

from conftest import run_cdp, write

HEADER = "Id,Email,FirstName,LastName,Address,Phone,IsDeleted,LastModifiedOn\n"


def contact(n: int, email: str = "", modified: str = "2026-03-01T10:00:00Z") -> str:
    return f"C{n},{email or f'p{n}@example.com'},First{n},Last{n},,,false,{modified}\n"


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def outcome_for(report, name: str):
    return next(o for o in report.outcomes if o.path.endswith(name))


def test_landing_twice_changes_nothing(warehouse, landing):
    write(landing, "crm/contacts/contacts_1.csv", HEADER + contact(1) + contact(2))
    first = land(warehouse, landing)
    before = rows(warehouse, "select count(*) from raw.crm_contacts")
    loads = rows(warehouse, "select count(*) from raw._loads")

    second = land(warehouse, landing)

    assert first.outcomes[0].status == "landed" and first.rows_landed == 2
    assert [o.status for o in second.outcomes] == ["skipped"]
    assert "already landed" in second.outcomes[0].message
    assert rows(warehouse, "select count(*) from raw.crm_contacts") == before == [(2,)]
    assert rows(warehouse, "select count(*) from raw._loads") == loads


def test_a_file_unchanged_since_it_landed_is_not_read_again(warehouse, landing, monkeypatch):
    path = write(landing, "crm/contacts/contacts_1.csv", HEADER + contact(1))
    land(warehouse, landing)
    surveyed = []
    real_survey = land_module.survey_file
    monkeypatch.setattr(land_module, "survey_file",
                        lambda p: surveyed.append(p.name) or real_survey(p))
    again = land(warehouse, landing)
    assert [o.status for o in again.outcomes] == ["skipped"] and surveyed == []
    assert "unchanged since" in again.outcomes[0].message
    # The same size and modification time, other content: the change time tells it.
    times = path.stat()
    path.write_text(HEADER + contact(2))
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    changed = land(warehouse, landing)
    assert [o.status for o in changed.outcomes] == ["landed"] and surveyed == [path.name]
    assert rows(warehouse, "select Id from raw.crm_contacts order by Id") == [("C1",), ("C2",)]
    # Touched only: read once, found the same, then remembered.
    os.utime(path)
    assert [o.status for o in land(warehouse, landing).outcomes] == ["skipped"]
    assert [o.status for o in land(warehouse, landing).outcomes] == ["skipped"]
    assert surveyed == [path.name, path.name]


def test_same_content_under_another_name_is_skipped(warehouse, landing):
    write(landing, "crm/contacts/contacts_1.csv", HEADER + contact(1))
    write(landing, "crm/contacts/contacts_1_copy.csv", HEADER + contact(1))
    report = land(warehouse, landing)
    assert [o.status for o in report.outcomes] == ["landed", "skipped"]
    assert rows(warehouse, "select count(*) from raw.crm_contacts") == [(1,)]


def test_files_land_in_path_order_with_growing_load_ids(warehouse, landing):
    write(landing, "crm/contacts/2026/contacts_20260102.csv", HEADER + contact(2))
    write(landing, "crm/contacts/2025/contacts_20251231.csv", HEADER + contact(1))
    land(warehouse, landing)
    assert rows(warehouse, "select file_path from raw._loads order by load_id") == [
        ("crm/contacts/2025/contacts_20251231.csv",),
        ("crm/contacts/2026/contacts_20260102.csv",),
    ]


def test_a_file_lands_whole_or_not_at_all(warehouse, landing, monkeypatch):
    # A failure after the rows are inserted (here: writing the manifest row) cannot be
    # caused from outside, so it is injected; the whole file must roll back.
    write(landing, "crm/contacts/contacts_1.csv", HEADER + contact(1) + contact(2))
    real_record = land_module.record_load

    def failing_record(con, load_id, file, digest, size, file_format, outcome, *rest):
        if outcome.status == "landed":
            raise land_module.duckdb.IOException("disk full")
        return real_record(con, load_id, file, digest, size, file_format, outcome, *rest)

    monkeypatch.setattr(land_module, "record_load", failing_record)
    report = land(warehouse, landing)

    assert report.outcomes[0].status == "rejected"
    assert "disk full" in report.outcomes[0].message
    assert rows(warehouse, "select count(*) from raw.crm_contacts") == [(0,)]
    assert rows(warehouse, "select count(*) from raw._rejected_lines") == [(0,)]
    assert rows(warehouse, "select status from raw._loads") == [("rejected",)]


def test_schema_drift_new_column_any_order_any_case(warehouse, landing):
    write(landing, "crm/contacts/contacts_1.csv", HEADER + contact(1))
    write(
        landing,
        "crm/contacts/contacts_2.csv",
        "lastmodifiedon,EMAIL,id,Country\n2026-03-02T10:00:00Z,x@example.com,C2,NL\n",
    )
    report = land(warehouse, landing)

    assert [o.status for o in report.outcomes] == ["landed", "landed"]
    assert rows(
        warehouse,
        "select Id, Email, LastModifiedOn, Country, FirstName from raw.crm_contacts order by Id",
    ) == [
        ("C1", "p1@example.com", "2026-03-01T10:00:00Z", None, "First1"),
        ("C2", "x@example.com", "2026-03-02T10:00:00Z", "NL", None),
    ]
    columns = [name for (name,) in rows(
        warehouse,
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'crm_contacts'",
    )]
    assert "Country" in columns and "EMAIL" not in columns and "email" not in columns


def test_missing_required_column_rejects_the_whole_file(warehouse, landing):
    write(landing, "crm/contacts/contacts_1.csv", "Id,Email\nC1,a@example.com\n")
    write(landing, "crm/contacts/contacts_2.csv", HEADER + contact(2))
    report = land(warehouse, landing)

    refused = outcome_for(report, "contacts_1.csv")
    assert refused.status == "rejected"
    assert refused.message == (
        "crm/contacts/contacts_1.csv: missing required column 'LastModifiedOn'"
    )
    assert outcome_for(report, "contacts_2.csv").status == "landed"
    assert rows(warehouse, "select Id from raw.crm_contacts") == [("C2",)]
    assert rows(
        warehouse, "select status, message from raw._loads where file_path like '%_1.csv'"
    ) == [("rejected", refused.message)]


def test_malformed_lines_are_rejected_and_the_rest_lands(warehouse, landing):
    content = (
        HEADER.encode()
        + contact(1).encode()
        + b"C2,too@many.example.com,A,B,,,false,2026-03-01T10:00:00Z,surplus\n"
        + contact(3).encode()
        + b"C4,missing@fields.example.com\n"
        + b"C5,bad\xff\xfe@example.com,A,B,,,false,2026-03-01T10:00:00Z\n"
        + contact(6).encode()
        + b'C7,"never closed,A,B,,,false,2026-03-01T10:00:00Z\n'
    )
    write(landing, "crm/contacts/contacts_1.csv", content)
    report = land(warehouse, landing)

    outcome = report.outcomes[0]
    assert (outcome.status, outcome.rows_landed, outcome.lines_rejected) == ("landed", 3, 4)
    assert "4 malformed line(s) rejected" in outcome.message
    assert rows(warehouse, "select Id from raw.crm_contacts order by Id") == [
        ("C1",), ("C3",), ("C6",),
    ]
    rejected = rows(
        warehouse,
        "select line_number, reason, raw_text, file_path from raw._rejected_lines "
        "order by line_number",
    )
    assert [(line, reason) for line, reason, *_ in rejected] == [
        (3, "too many fields"),
        (5, "missing fields"),
        (6, "invalid UTF-8"),
        (8, "broken quoting"),
    ]
    assert rejected[0][2] == "C2,too@many.example.com,A,B,,,false,2026-03-01T10:00:00Z,surplus"
    assert rejected[1][2] == "C4,missing@fields.example.com"
    assert all(path == "crm/contacts/contacts_1.csv" for *_, path in rejected)
    assert rows(
        warehouse, "select rows_landed, lines_rejected from raw._loads"
    ) == [(3, 4)]


def test_broken_json_lines_are_rejected_and_the_rest_lands(warehouse, landing):
    content = (
        b'{"Id": "S1", "Email": "a@example.com", "LastModifiedOn": "2026-03-01T10:00:00Z"}\n'
        b'{"Id": "S2", "Email": "b@exam\n'
        b"[1, 2]\n"
        b'{"id": 3, "NAME": "Three", "lastmodifiedon": "2026-03-01T11:00:00Z", "Extra": true}\n'
    )
    write(landing, "support/contacts/contacts_1.jsonl", content)
    report = land(warehouse, landing)

    assert (report.rows_landed, report.lines_rejected) == (2, 2)
    assert rows(
        warehouse,
        "select Id, Email, Name, LastModifiedOn, Extra, _row_number from raw.support_contacts "
        "order by Id",
    ) == [
        ("3", None, "Three", "2026-03-01T11:00:00Z", "true", 2),
        ("S1", "a@example.com", None, "2026-03-01T10:00:00Z", None, 1),
    ]
    assert rows(
        warehouse, "select line_number, reason from raw._rejected_lines order by 1"
    ) == [(2, "broken JSON line"), (3, "broken JSON line")]


def test_parquet_files_land_with_their_row_numbers(warehouse, landing):
    path = landing / "campaign" / "quarantine" / "quarantine_1.parquet"
    path.parent.mkdir(parents=True)
    warehouse.execute(
        "copy (select 'q' || i || '@example.com' as address, 'Quarantine' as STATUS, "
        "i as ErrorCount, timestamp '2026-03-01 10:00:00' as LastModified "
        f"from range(3) t(i)) to '{path}' (format parquet)"
    )
    report = land(warehouse, landing)
    assert report.outcomes[0].status == "landed"
    assert rows(
        warehouse,
        "select Address, Status, ErrorCount, LastModified, _row_number "
        "from raw.campaign_quarantine order by _row_number",
    ) == [
        ("q0@example.com", "Quarantine", "0", "2026-03-01 10:00:00", 1),
        ("q1@example.com", "Quarantine", "1", "2026-03-01 10:00:00", 2),
        ("q2@example.com", "Quarantine", "2", "2026-03-01 10:00:00", 3),
    ]


def test_a_corrupt_parquet_file_is_refused_with_a_message(warehouse, landing):
    write(landing, "campaign/quarantine/quarantine_1.parquet", b"PAR1 this is not parquet")
    report = land(warehouse, landing)
    assert report.outcomes[0].status == "rejected"
    assert "is not a readable Parquet file" in report.outcomes[0].message


def test_bom_and_crlf_files_land_normally(warehouse, landing):
    content = "\ufeff" + (HEADER + contact(1) + contact(2)).replace("\n", "\r\n")
    write(landing, "crm/contacts/contacts_1.csv", content.encode("utf-8"))
    report = land(warehouse, landing)
    assert (report.rows_landed, report.lines_rejected) == (2, 0)
    assert rows(
        warehouse, "select Id, LastModifiedOn from raw.crm_contacts order by Id"
    ) == [("C1", "2026-03-01T10:00:00Z"), ("C2", "2026-03-01T10:00:00Z")]


def test_quoted_fields_with_newlines_commas_and_quotes_land_intact(warehouse, landing):
    address = '12 Main Street\nFlat 4, "Rose" House'
    content = (
        HEADER
        + 'C1,a@example.com,Ann,O\'Brien,"12 Main Street\nFlat 4, ""Rose"" House",,false,'
        + "2026-03-01T10:00:00Z\n"
        + contact(2)
    )
    write(landing, "crm/contacts/contacts_1.csv", content)
    land(warehouse, landing)
    assert rows(warehouse, "select Address, LastName from raw.crm_contacts where Id = 'C1'") == [
        (address, "O'Brien")
    ]
    assert rows(warehouse, "select count(*) from raw.crm_contacts") == [(2,)]


@pytest.mark.parametrize("content", [b"", HEADER.encode()], ids=["zero bytes", "header only"])
def test_an_empty_file_gets_a_message_and_affects_nothing_else(warehouse, landing, content):
    write(landing, "crm/contacts/contacts_1.csv", content)
    write(landing, "crm/contacts/contacts_2.csv", HEADER + contact(2))
    report = land(warehouse, landing)

    empty = outcome_for(report, "contacts_1.csv")
    assert empty.status == "empty"
    assert empty.message.startswith("crm/contacts/contacts_1.csv: ")
    assert "nothing to land" in empty.message
    assert outcome_for(report, "contacts_2.csv").status == "landed"
    assert rows(warehouse, "select Id from raw.crm_contacts") == [("C2",)]


def test_unknown_folders_and_file_types_get_a_message(warehouse, landing):
    write(landing, "erp/orders/orders_1.csv", "Id\n1\n")
    write(landing, "crm/leads/leads_1.csv", "Id\n1\n")
    write(landing, "crm/contacts/notes.txt", "not an extract")
    write(landing, "crm/contacts/contacts_1.csv", HEADER + contact(1))
    report = land(warehouse, landing)

    assert report.notices == [
        "crm/leads/: unknown entity folder, skipped (known: contacts, purchases)",
        "erp/: unknown source folder, skipped (known: campaign, crm, support)",
    ]
    txt = outcome_for(report, "notes.txt")
    assert txt.status == "rejected"
    assert "unsupported file type '.txt'" in txt.message
    assert outcome_for(report, "contacts_1.csv").status == "landed"


def test_an_unreadable_file_gets_a_message_and_affects_nothing_else(
    warehouse, landing, monkeypatch
):
    # Tests run as root, who can read any file, so the read error is injected.
    write(landing, "crm/contacts/contacts_1.csv", HEADER + contact(1))
    write(landing, "crm/contacts/contacts_2.csv", HEADER + contact(2))
    real_survey = land_module.survey_file

    def unreadable(path):
        if path.name == "contacts_1.csv":
            raise PermissionError(13, "Permission denied")
        return real_survey(path)

    monkeypatch.setattr(land_module, "survey_file", unreadable)
    report = land(warehouse, landing)

    assert outcome_for(report, "contacts_1.csv").status == "unreadable"
    assert outcome_for(report, "contacts_1.csv").message == (
        "crm/contacts/contacts_1.csv: cannot be read (Permission denied)"
    )
    assert rows(warehouse, "select Id from raw.crm_contacts") == [("C2",)]


def test_a_rejected_file_is_tried_again_once_fixed(warehouse, landing):
    path = write(landing, "crm/contacts/contacts_1.csv", "Id,Email\nC1,a@example.com\n")
    assert land(warehouse, landing).outcomes[0].status == "rejected"
    path.write_text(HEADER + contact(1))
    assert land(warehouse, landing).outcomes[0].status == "landed"


def test_bad_input_reaches_the_user_as_one_line_never_a_traceback(tmp_path, landing):
    write(landing, "erp/orders/orders_1.csv", "Id\n1\n")
    write(landing, "crm/contacts/contacts_1.csv", "Id,Email\nC1,a@example.com\n")
    write(landing, "crm/contacts/contacts_2.csv", b"")
    write(landing, "crm/contacts/contacts_3.csv", HEADER + contact(3) + "C4,x\n")
    write(landing, "campaign/quarantine/q.parquet", b"not parquet")
    env = dict(os.environ, CDP_DUCKDB_PATH=str(tmp_path / "cli.duckdb"))

    result = run_cdp("land", str(landing), env=env)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    messages = result.stderr.strip().splitlines()
    assert messages == [
        "notice: erp/: unknown source folder, skipped (known: campaign, crm, support)",
        messages[1],
        "rejected: crm/contacts/contacts_1.csv: missing required column 'LastModifiedOn'",
        "warning: crm/contacts/contacts_2.csv: empty file, nothing to land",
        (
            "warning: crm/contacts/contacts_3.csv: 1 malformed line(s) rejected, see "
            "raw._rejected_lines"
        ),
    ]
    assert messages[1].startswith("rejected: campaign/quarantine/q.parquet: is not a readable")
    assert "1 file(s) landed" in result.stdout

    strict = run_cdp("land", str(landing), "--fail-on-reject", env=env)
    assert strict.returncode == 4   # rejects present, not a usage error

    missing = run_cdp("land", str(tmp_path / "nowhere"), env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"error: landing root {tmp_path / 'nowhere'} is not a folder"


def test_row_numbers_follow_the_file_even_when_read_in_parallel(warehouse, landing):
    path = landing / "crm" / "contacts" / "contacts_big.csv"
    path.parent.mkdir(parents=True)
    # About 40 MB, so DuckDB reads it with several threads.
    warehouse.execute(
        "copy (select 'C' || i as Id, 'p' || i || '@example.com' as Email, "
        "repeat('x', 60) as Address, '2026-03-01T10:00:00Z' as LastModifiedOn "
        f"from range(1, 500001) t(i)) to '{path}' (header true)"
    )
    report = land(warehouse, landing)
    assert report.rows_landed == 500000
    assert rows(
        warehouse, "select count(*) from raw.crm_contacts where Id <> 'C' || _row_number"
    ) == [(0,)]
