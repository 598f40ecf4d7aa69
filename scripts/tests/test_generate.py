"""`cdp generate`: deterministic by seed, and every kind of mess is really there.

The mess is counted in the landed and staged sample (see conftest), so these tests
also show that landing and staging keep it visible rather than smoothing it away."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb

from cdp.land import land
from cdp.project import raw_entities
from cdp_dev.generate import DEFAULT_FIRST_EXTRACT, generate

FIRST_EXTRACT = DEFAULT_FIRST_EXTRACT.replace(tzinfo=None)


def digest_of_tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    generate(tmp_path / "a", contacts=300, seed=11, batches=3)
    generate(tmp_path / "b", contacts=300, seed=11, batches=3)
    generate(tmp_path / "c", contacts=300, seed=12, batches=3)
    a, b, c = (digest_of_tree(tmp_path / name) for name in "abc")
    assert a == b
    assert len(a) == len(raw_entities()) * 3 + 2  # three batches, two ground-truth files
    assert a.keys() == c.keys()
    assert sum(a[name] != c[name] for name in a) >= 20


def test_jsonl_and_parquet_formats_land(tmp_path, warehouse):
    jsonl = generate(tmp_path / "j", contacts=100, batches=2, file_format="jsonl")
    parquet = generate(tmp_path / "p", contacts=100, batches=2, file_format="parquet")
    assert len(list((tmp_path / "j").rglob("*.jsonl"))) == len(raw_entities()) * 2
    # and the ground truth
    assert len(list((tmp_path / "p").rglob("*.parquet"))) == len(raw_entities()) * 2 + 1

    from_jsonl = land(warehouse, tmp_path / "j")
    # The generator appends a cut-off line and a JSON array to one file.
    assert (from_jsonl.rows_landed, from_jsonl.lines_rejected) == (jsonl.rows, 2)
    from_parquet = land(warehouse, tmp_path / "p")
    assert (from_parquet.rows_landed, from_parquet.lines_rejected) == (parquet.rows, 0)
    assert warehouse.execute(
        "select count(*) from raw.crm_contacts where _source_file like '%.parquet'"
    ).fetchone()[0] == sum(rows for entity, _, rows in parquet.files if entity == "crm/contacts")


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


def test_every_kind_of_mess_is_present(sample):
    con = sample.connect()
    first_extract = f"timestamp '{FIRST_EXTRACT}'"
    later_files = "source_file not like '%20260601T060000Z%'"
    batch = "regexp_extract(source_file, '_(\\d{8}T\\d{6}Z)', 1)"
    truth = f"read_parquet('{sample.root / '_truth' / 'identities.parquet'}')"
    mess = {
        "contacts updated in later batches": """
            select count(*) from (
                select contact_id from staging.stg_crm__contacts
                group by 1 having count(distinct last_modified_at) > 1
                    and count(distinct load_id) > 1)""",
        "late arrivals (older than the first extract, in a later batch)": f"""
            select count(*) from staging.stg_crm__contacts
            where {later_files} and last_modified_at < {first_extract}""",
        "late purchases and tickets": f"""
            select (select count(*) from staging.stg_crm__purchases
                    where {later_files} and last_modified_at < {first_extract})
                 * (select count(*) from staging.stg_support__tickets
                    where {later_files} and last_modified_at < {first_extract})""",
        "emails with case or white space variants": """
            select count(*) from raw.support_contacts
            where Email <> lower(trim(Email))""",
        "campaign emails with variants": """
            select count(*) from raw.campaign_recipients
            where Email <> lower(trim(Email))""",
        "the same person's email in two systems": """
            select count(*) from staging.stg_crm__contacts as c
            inner join staging.stg_support__contacts as s using (email)""",
        "shared role mailboxes used by several people": f"""
            select count(*) from (
                select c.email from staging.stg_crm__contacts as c
                inner join {truth} as t on t.namespace = 'crm_id' and t.identifier = c.contact_id
                where regexp_matches(c.email, '^(info|support|sales|office|contact)@')
                group by 1 having count(distinct t.person_id) > 1)""",
        "purchases delivered unpaid, paid in a later batch": """
            select count(*) from (
                select purchase_id from staging.stg_crm__purchases group by 1
                having min(load_id) filter (where paid_at is null)
                     < min(load_id) filter (where paid_at is not null))""",
        "purchases never paid": """
            select count(*) from (
                select purchase_id from staging.stg_crm__purchases group by 1
                having count(paid_at) = 0)""",
        "CRM deletions": "select count(*) from staging.stg_crm__contacts where is_deleted",
        "tickets whose submitter arrives in a later batch": f"""
            select count(*) from staging.stg_support__tickets as t
            inner join (
                select support_contact_id, min({batch}) as first_batch
                from staging.stg_support__contacts group by 1
            ) as s on s.support_contact_id = t.submitted_by_id
            where {batch.replace('source_file', 't.source_file')} < s.first_batch""",
        "recipients linked by CrmContactId": """
            select count(distinct recipient_id) from staging.stg_campaign__recipients
            where crm_contact_id is not null""",
        "recipients linked by email only": """
            select count(distinct recipient_id) from staging.stg_campaign__recipients
            where crm_contact_id is null""",
        "blacklisted recipients": """
            select count(distinct recipient_id) from staging.stg_campaign__recipients
            where is_blacklisted""",
        "hard bounces": """
            select count(*) from staging.stg_campaign__broadlogs
            where status = 'Failed' and failure_type = 'Hard'""",
        "soft bounces": """
            select count(*) from staging.stg_campaign__broadlogs
            where status = 'Failed' and failure_type = 'Soft'""",
        "opens": "select count(*) from staging.stg_campaign__trackinglogs where tracking_type = 'Open'",
        "clicks": """
            select count(*) from staging.stg_campaign__trackinglogs
            where tracking_type = 'Click' and url is not null""",
        "quarantined addresses": """
            select count(*) from staging.stg_campaign__quarantines where status = 'Quarantine'""",
        "denylisted addresses": """
            select count(*) from staging.stg_campaign__quarantines where status = 'Denylisted'""",
        "exact duplicate deliveries": """
            select count(*) from (
                select Id, LastModifiedOn, Email from raw.crm_contacts
                group by all having count(*) > 1)""",
        "addresses spanning lines": """
            select count(*) from staging.stg_crm__contacts where address like '%' || chr(10) || '%'""",
        "timestamps with an offset": "select count(*) from raw.crm_contacts where LastModifiedOn like '%+02:00'",
        "timestamps without an offset": """
            select count(*) from raw.crm_contacts where regexp_matches(LastModifiedOn, ':\\d\\d$')""",
        "a column added in a later file": "select count(*) from raw.crm_contacts where Country = 'NL'",
        "records staging rejects for a missing key": """
            select count(distinct (source_name, entity_name)) from ops.rejected_records where reason like 'missing%'""",
        "records staging rejects for a bad timestamp": """
            select count(distinct (source_name, entity_name)) from ops.rejected_records
            where reason like 'unparseable%'""",
    }
    found = {name: count(con, sql) for name, sql in mess.items()}
    assert {name: n for name, n in found.items() if n == 0} == {}
    assert found["records staging rejects for a missing key"] == len(raw_entities())
    assert found["records staging rejects for a bad timestamp"] == len(raw_entities())

    reasons = {reason for (reason,) in con.execute(
        "select distinct reason from raw._rejected_lines").fetchall()}
    assert reasons == {"too many fields", "missing fields", "invalid UTF-8", "broken quoting"}
    bom = sample.root / "support" / "contacts" / "contacts_20260602T060000Z.csv"
    assert bom.read_bytes().startswith(b"\xef\xbb\xbfId,") and b"\r\n" in bom.read_bytes()
    assert count(con, "select count(*) from raw._loads where status <> 'landed'") == 0


def records_in_csv(path: Path) -> int:
    """Records after the header, as an RFC 4180 reader sees them (independent of DuckDB)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def test_row_accounting_on_generated_data(sample):
    con = sample.connect()
    loads = con.execute(
        "select file_path, rows_landed, lines_rejected from raw._loads order by load_id"
    ).fetchall()
    assert len(loads) == len(raw_entities()) * 4
    for file_path, landed, rejected in loads:
        assert records_in_csv(sample.root / file_path) == landed + rejected, file_path
    assert sum(rejected for *_, rejected in loads) == 4

    staged = {
        ("crm", "contacts"): "stg_crm__contacts",
        ("crm", "purchases"): "stg_crm__purchases",
        ("support", "contacts"): "stg_support__contacts",
        ("support", "tickets"): "stg_support__tickets",
        ("campaign", "recipients"): "stg_campaign__recipients",
        ("campaign", "broadlog"): "stg_campaign__broadlogs",
        ("campaign", "trackinglog"): "stg_campaign__trackinglogs",
        ("campaign", "quarantine"): "stg_campaign__quarantines",
        ("campaign", "preferences"): "stg_campaign__preferences",
    }
    assert set(staged) == set(raw_entities())
    for (source, entity), view in staged.items():
        raw_rows = count(con, f"select count(*) from raw.{source}_{entity}")
        landed = count(
            con,
            f"select sum(rows_landed) from raw._loads "
            f"where source = '{source}' and entity = '{entity}'",
        )
        staging_rows = count(con, f"select count(*) from staging.{view}")
        rejected = count(
            con,
            "select count(*) from ops.rejected_records "
            f"where source_name = '{source}' and entity_name = '{entity}'",
        )
        assert raw_rows == landed
        assert raw_rows == staging_rows + rejected, (source, entity)
        assert rejected >= 2
