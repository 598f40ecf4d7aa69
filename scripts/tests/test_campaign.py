"""Campaign integration: suppression, Campaign as the source of truth, membership
statuses across an export, and governance labels that stop dbt."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cdp.destinations import open_destination
from cdp.export import Progress, export_subject
from cdp.project import project_dir
from cdp.subjects import segment_subjects
from cdp.warehouse import create_tables

from conftest import copy_project, run_cdp
from incremental import CONTACTS, PURCHASES, RECIPIENTS, Warehouse, write_csv


def export_segments(database: Path, folder: Path) -> None:
    """`cdp export segments` to a folder, in this process."""
    con = duckdb.connect(str(database))
    create_tables(con)
    destination = open_destination(str(folder))
    for subject in segment_subjects(con, destination.url):
        export_subject(con, destination, subject, False, False, Progress())
    con.close()


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


def test_suppressed_recipients_are_never_active_members(sample):
    con = sample.connect()
    assert count(con, "select count(*) from campaign.segment_suppressions") > 0
    assert count(con, "select sum(recipients) from campaign.segment_suppressions "
                      "where reason = 'blacklisted'") > 0
    assert count(con, "select sum(recipients) from campaign.segment_suppressions "
                      "where reason = 'quarantine'") > 0
    assert count(con, """
        select count(*) from campaign.segment_membership as m
        inner join intermediate.int_campaign_recipients_current as r using (recipient_id)
        where m.status <> 'exited' and r.is_blacklisted
    """) == 0
    assert count(con, """
        select count(*) from campaign.segment_membership as m
        inner join campaign.non_deliverable_addresses as q on m.email = q.address
        where m.status <> 'exited' and q.is_suppressing
    """) == 0
    assert count(con, "select count(*) from campaign.segment_membership") > 100


def test_only_campaign_recipients_are_members(sample):
    con = sample.connect()
    # Segments select people without a Campaign recipient too...
    assert count(con, """
        select count(*) from campaign.segment_recent_purchasers as s
        where s.contact_key not in (
            select contact_key from profile.identities where namespace = 'campaign_id')
    """) > 0
    # ...but membership holds only recipients Campaign already has.
    assert count(con, """
        select count(*) from campaign.segment_membership
        where recipient_id not in (
            select recipient_id from intermediate.int_campaign_recipients_current)
    """) == 0
    assert count(con, """
        select count(*) from campaign.segment_membership as m
        inner join profile.identities as i
            on i.namespace = 'campaign_id' and i.identifier = m.recipient_id
        where i.contact_key <> m.contact_key
    """) == 0


def memberships(warehouse: Warehouse) -> dict[str, str]:
    return dict(warehouse.query(
        "select recipient_id, status from campaign.segment_membership "
        "where segment_id = 'recent_purchasers'"
    ))


def changed_at(warehouse: Warehouse) -> dict[str, object]:
    return dict(warehouse.query(
        "select recipient_id, status_changed_at from campaign.segment_membership "
        "where segment_id = 'recent_purchasers'"
    ))


def test_statuses_across_an_export(tmp_path, dbt_target):
    source = tmp_path / "extracts"
    warehouse = Warehouse(tmp_path / "warehouse", dbt_target)
    day1 = [
        write_csv(source, "crm/contacts/contacts_1.csv", CONTACTS,
                  "C1,ann@example.com,1 Road,false,2026-06-01T10:00:00Z",
                  "C2,bob@example.com,2 Road,false,2026-06-01T10:00:00Z",
                  "C3,cy@example.com,3 Road,false,2026-06-01T10:00:00Z"),
        write_csv(source, "crm/purchases/purchases_1.csv", PURCHASES,
                  "P1,C1,Pro Plan,2026-06-01T12:00:00Z,2026-06-01T12:00:00Z,2026-06-01T12:00:00Z",
                  "P2,C2,Pro Plan,2026-06-01T12:00:00Z,2026-06-01T12:00:00Z,2026-06-01T12:00:00Z",
                  "P3,C3,Pro Plan,2026-06-01T12:00:00Z,2026-06-01T12:00:00Z,2026-06-01T12:00:00Z"),
        # C3 bought but has no Campaign recipient: never a member.
        write_csv(source, "campaign/recipients/recipients_1.csv", RECIPIENTS,
                  "R1,ann@example.com,C1,0,2026-06-01T10:00:00Z",
                  "R2,bob@example.com,,0,2026-06-01T10:00:00Z"),
    ]
    warehouse.land_files(source, day1)
    warehouse.build()
    assert memberships(warehouse) == {"R1": "realized", "R2": "realized"}
    realized_at = changed_at(warehouse)
    # A build with nothing new keeps the statuses and when they changed.
    warehouse.build()
    assert changed_at(warehouse) == realized_at

    export_segments(warehouse.database, warehouse.base / "exports")
    exported_at = warehouse.query(
        "select max(exported_at) from cdp_state.segment_export_members")[0][0]
    warehouse.build()
    assert memberships(warehouse) == {"R1": "existing", "R2": "existing"}
    # Existing since the export that sent them.
    assert set(changed_at(warehouse).values()) == {exported_at}

    # Day 2: R2 is blacklisted, so suppressed and exited; C4 buys and R4 is new.
    day2 = [
        write_csv(source, "crm/contacts/contacts_2.csv", CONTACTS,
                  "C4,dee@example.com,4 Road,false,2026-06-02T10:00:00Z"),
        write_csv(source, "crm/purchases/purchases_2.csv", PURCHASES,
                  "P4,C4,Pro Plan,2026-06-02T12:00:00Z,2026-06-02T12:00:00Z,2026-06-02T12:00:00Z"),
        write_csv(source, "campaign/recipients/recipients_2.csv", RECIPIENTS,
                  "R2,bob@example.com,,1,2026-06-02T10:00:00Z",
                  "R4,dee@example.com,C4,0,2026-06-02T10:00:00Z"),
    ]
    warehouse.land_files(source, day2)
    warehouse.build()
    assert memberships(warehouse) == {"R1": "existing", "R2": "exited", "R4": "realized"}
    assert warehouse.query(
        "select reason, recipients from campaign.segment_suppressions "
        "where segment_id = 'recent_purchasers'") == [("blacklisted", 1)]

    export_segments(warehouse.database, warehouse.base / "exports")
    files = sorted((warehouse.base / "exports" / "campaign" / "segments" / "recent_purchasers")
                   .glob("*.csv"))
    assert len(files) == 2
    second = list(csv.reader(files[1].open(newline="")))
    assert second[0] == ["RecipientId", "Email", "SegmentId", "SegmentName", "Status",
                         "StatusChangedAt", "FirstName"]   # its personalization
    assert sorted((row[0], row[4]) for row in second[1:]) == [("R2", "exited"),
                                                               ("R4", "realized")]
    warehouse.build()
    assert memberships(warehouse) == {"R1": "existing", "R4": "existing"}
    history = warehouse.query(
        "select recipient_id, status, dbt_valid_to is null from "
        "snapshots.segment_membership_snapshot where segment_id = 'recent_purchasers' "
        "order by recipient_id, dbt_valid_from")
    assert ("R2", "exited", False) in history and ("R4", "realized", False) in history


@pytest.mark.integration   # runs dbt
def test_a_refused_label_on_an_exposed_column_stops_dbt(tmp_path):
    project = copy_project(tmp_path / "project")
    models = project / "models" / "marts" / "insight" / "_insight__models.yml"
    original = models.read_text()
    env = dict(os.environ, CDP_DUCKDB_PATH=str(tmp_path / "cdp.duckdb"), DO_NOT_TRACK="1")

    def dbt_seed() -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), "seed", "--project-dir", str(project),
             "--profiles-dir", str(project)],
            capture_output=True, text=True, env=env, cwd=project, check=False,
        )

    models.write_text(original.replace("meta: {labels: [I1]}", "meta: {labels: [I1, C12]}", 1))
    refused = dbt_seed()
    assert refused.returncode != 0
    assert ("Governance: model insight.crm_contacts, column Email: label C12 is refused "
            "by destination sitefinity_insight") in refused.stdout

    models.write_text(original)
    allowed = dbt_seed()
    assert allowed.returncode == 0, allowed.stdout


@pytest.mark.integration   # runs dbt
def test_segment_definitions_that_would_hurt_stop_dbt(tmp_path):
    project = copy_project(tmp_path / "project")
    segments = project / "models" / "marts" / "campaign" / "segments" / "_segments__models.yml"
    segments.write_text(segments.read_text()
                        .replace("segment_id: recent_purchasers", "segment_id: ../evil")
                        # an unquoted name with a comma: YAML reads a second key
                        .replace('\n        segment_id: open_support_cases\n'
                                 '        segment_name: "Open support cases"',
                                 " {segment_id: open_support_cases, segment_name: Open, "
                                 "support cases}")
                        .replace('segment_name: "Engaged, never purchased"',
                                 'segment_name: " "'))
    env = dict(os.environ, CDP_DUCKDB_PATH=str(tmp_path / "cdp.duckdb"), DO_NOT_TRACK="1")
    refused = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "seed", "--project-dir", str(project),
         "--profiles-dir", str(project)],
        capture_output=True, text=True, env=env, cwd=project, check=False)
    assert refused.returncode != 0
    message = " ".join(refused.stdout.split())
    assert "Segment definitions: segment_recent_purchasers: segment_id '../evil' is not " \
        "[a-z0-9_]{1,64}" in message
    assert "segment_open_support_cases: unknown meta key(s)" in message
    assert "segment_engaged_never_purchased: segment_name is empty or not text" in message


# --- Campaign's own vocabulary and XDM-shaped logs ----------------------------------

def seed_rows(name: str) -> list[dict]:
    with (project_dir() / "seeds" / f"{name}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_campaign_status_label_or_code_builds_and_an_unknown_one_is_counted(sample, tmp_path):
    con = sample.connect()
    # The sample carries every status of the seed, as labels and as numeric codes...
    statuses = {row["status_label"]: row["status_code"] for row in
                seed_rows("campaign_delivery_statuses")}
    raw = {value for (value,) in con.execute(
        'select distinct "Status" from raw.campaign_broadlog').fetchall()}
    assert set(statuses) <= raw and set(statuses.values()) & raw
    # ...all decoded to labels (and the sample's dbt build was green).
    decoded = dict(con.execute("select status, count(*) from campaign.broad_log "
                               "where not is_unknown_status group by all").fetchall())
    assert set(decoded) == set(statuses)
    # The unknown one keeps its rows, maps to no event, and is counted.
    unknown = con.execute("select status, count(*), count(event_type) from campaign.broad_log "
                          "where is_unknown_status group by all").fetchall()
    assert [(status, events) for status, _, events in unknown] == [("Delivered", 0)]
    rows = unknown[0][1]
    assert rows == count(con, """select count(distinct "BroadLogId") from raw.campaign_broadlog
                                 where "Status" = 'Delivered'""")
    env = {**os.environ, "CDP_DUCKDB_PATH": str(sample.database)}
    status = run_cdp("status", env=env)
    assert status.returncode == 0
    line = next(line for line in status.stdout.splitlines() if "Delivered" in line)
    assert [cell.strip() for cell in line.split("│")][1:3] == ["Delivered", str(rows)]
    # Failures follow their type; codes decode like labels.
    assert dict(con.execute("""select failure_type, any_value(event_type)
        from campaign.broad_log where status = 'Failed' group by all""").fetchall()) == {
        "Hard": "directMarketing.emailBounced", "Soft": "directMarketing.emailBouncedSoft"}
    assert count(con, "select count(*) from campaign.broad_log where failure_reason is not null "
                      "and failure_reason_code is null") == 0


def test_campaign_logs_carry_xdm_field_names_and_event_types(sample, tmp_path):
    database = tmp_path / "cdp.duckdb"
    database.write_bytes(sample.database.read_bytes())
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database), "DBT_TARGET_PATH": str(sample.target)}
    done = run_cdp("export", "campaign-logs", "--to", str(tmp_path / "out"), env=env)
    assert done.returncode == 0, done.stderr
    logs = tmp_path / "out" / "campaign" / "logs"
    event_types = {}
    for log in ("broad_log", "tracking_log", "non_deliverable_addresses"):
        with_header = [list(csv.DictReader(path.open(newline="")))
                       for path in sorted((logs / log).glob("*.csv"))]
        rows = [row for rows in with_header for row in rows]
        assert rows and all(set(row) >= {"_id", "timestamp", "eventType"} for row in rows)
        assert len({row["_id"] for row in rows}) == len(rows)
        assert all(not name.startswith(("broadlog_id", "event_", "load_id")) for name in rows[0])
        event_types[log] = {row["eventType"] for row in rows}
    assert event_types["broad_log"] == {"directMarketing.emailSent", "directMarketing.emailBounced",
                                        "directMarketing.emailBouncedSoft", ""}
    assert event_types["tracking_log"] == {"directMarketing.emailOpened",
                                           "directMarketing.emailClicked",
                                           "directMarketing.emailUnsubscribed"}
    assert event_types["non_deliverable_addresses"] == {"delivery.feedback"}


# --- profile preferences ------------------------------------------------------------

PREFERENCES = "RecipientId,Channel,Service,Subscribed,LastModified"


def suppressed(warehouse: Warehouse) -> dict[str, str]:
    return dict(warehouse.query(
        "select recipient_id, suppressed_because from campaign.segment_candidates "
        "where segment_id = 'recent_purchasers' and suppressed_because is not null"))


def test_a_late_email_opt_out_suppresses_and_a_later_opt_in_restores(tmp_path, dbt_target):
    source = tmp_path / "extracts"
    warehouse = Warehouse(tmp_path / "warehouse", dbt_target)
    warehouse.land_files(source, [
        write_csv(source, "crm/contacts/contacts_1.csv", CONTACTS,
                  "C1,ann@example.com,1 Road,false,2026-06-01T10:00:00Z",
                  "C2,bob@example.com,2 Road,false,2026-06-01T10:00:00Z"),
        write_csv(source, "crm/purchases/purchases_1.csv", PURCHASES,
                  "P1,C1,Pro Plan,2026-06-01T12:00:00Z,2026-06-01T12:00:00Z,2026-06-01T12:00:00Z",
                  "P2,C2,Pro Plan,2026-06-01T12:00:00Z,2026-06-01T12:00:00Z,2026-06-01T12:00:00Z"),
        write_csv(source, "campaign/recipients/recipients_1.csv", RECIPIENTS,
                  "R1,ann@example.com,C1,0,2026-06-01T10:00:00Z",
                  "R2,bob@example.com,C2,0,2026-06-01T10:00:00Z"),
        write_csv(source, "campaign/preferences/preferences_1.csv", PREFERENCES,
                  "R1,email,Newsletter,true,2026-06-01T09:00:00Z",
                  "R2,Email,,1,2026-06-02T08:00:00Z"),
    ])
    warehouse.build()
    assert memberships(warehouse) == {"R1": "realized", "R2": "realized"}
    # Day 2 carries R1's email opt-out of day 1 (late: older than R2's preference
    # already processed), twice, and an older opt-in that it supersedes.
    warehouse.land_files(source, [write_csv(
        source, "campaign/preferences/preferences_2.csv", PREFERENCES,
        "R1,,,false,2026-06-01T11:00:00Z", "R1,,,false,2026-06-01T11:00:00Z",
        "R1,email,,true,2026-06-01T08:00:00Z")])
    warehouse.build()
    assert memberships(warehouse) == {"R2": "realized"}
    assert suppressed(warehouse) == {"R1": "opted_out"}
    assert warehouse.query("select reason, recipients from campaign.segment_suppressions "
                           "where segment_id = 'recent_purchasers'") == [("opted_out", 1)]
    assert set(warehouse.query("select recipient_id, channel, service, is_subscribed "
                               "from profile.preferences")) == {
        ("R1", "email", None, False), ("R1", "email", "Newsletter", True),
        ("R2", "email", None, True)}
    # A service-level unsubscription does not suppress; an opt-in later restores.
    warehouse.land_files(source, [write_csv(
        source, "campaign/preferences/preferences_3.csv", PREFERENCES,
        "R2,email,Newsletter,false,2026-06-03T08:00:00Z",
        "R1,email,,true,2026-06-03T09:00:00Z")])
    warehouse.build()
    assert memberships(warehouse) == {"R1": "realized", "R2": "realized"}
    assert suppressed(warehouse) == {}
    # Every preference version goes back to the platform side, once, in XDM shape.
    env = {**os.environ, "CDP_DUCKDB_PATH": str(warehouse.database),
           "DBT_TARGET_PATH": str(dbt_target)}
    out = tmp_path / "out"
    assert run_cdp("export", "campaign-logs", "--to", str(out), env=env).returncode == 0
    rows = [row for path in sorted((out / "campaign" / "logs" / "preference_changes")
                                   .glob("*.csv"))
            for row in csv.DictReader(path.open(newline=""))]
    assert sorted((r["_experience.campaign.recipientID"], r["timestamp"], r["eventType"],
                   r["consents.marketing.email.val"]) for r in rows) == [
        ("R1", "2026-06-01T08:00:00.000Z", "", "y"),
        ("R1", "2026-06-01T09:00:00.000Z", "", "y"),
        ("R1", "2026-06-01T11:00:00.000Z", "directMarketing.emailUnsubscribed", "n"),
        ("R1", "2026-06-03T09:00:00.000Z", "", "y"),
        ("R2", "2026-06-02T08:00:00.000Z", "", "y"),
        ("R2", "2026-06-03T08:00:00.000Z", "directMarketing.emailUnsubscribed", "n"),
    ]
    again = run_cdp("export", "campaign-logs", "--to", str(out), env=env)
    assert "nothing new" in again.stdout
