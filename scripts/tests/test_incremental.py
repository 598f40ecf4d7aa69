"""Insight import types: incremental runs equal a full refresh, whatever the order in
which batches land; a run with nothing new writes nothing; data tests on landed
history test the loads landed since the last passing build."""

from __future__ import annotations

import os
import random
from datetime import datetime

import duckdb
import pytest

from cdp.build import BuildPlan
from cdp_dev.generate import generate

from conftest import copy_project, run_cdp
from incremental import (
    CONTACTS,
    PURCHASES,
    RECIPIENTS,
    SUBMITTERS,
    TICKETS,
    Warehouse,
    random_steps,
    write_csv,
)

# CI runs a reproducible subset; `make test-property` runs the full count.
SEQUENCES = int(os.environ.get("CDP_PROPERTY_SEQUENCES", "3"))


@pytest.mark.parametrize("sequence", range(SEQUENCES))
def test_incremental_runs_equal_a_full_refresh(sequence, tmp_path, dbt_target):
    rng = random.Random(1000 + sequence)
    source = tmp_path / "generated"
    generate(source, contacts=rng.randint(80, 200), seed=sequence, batches=rng.randint(3, 5))
    files = sorted(p for p in source.rglob("*.csv") if "_truth" not in p.parts)
    warehouse = Warehouse(tmp_path / "warehouse", dbt_target)

    steps = random_steps(files, rng)
    for step in steps:
        warehouse.land_files(source, step)
        warehouse.build()
    incremental = warehouse.snapshot()

    warehouse.build(full_refresh=True)
    full_refresh = warehouse.snapshot()

    assert sum(len(rows) for rows in full_refresh.values()) > 100
    for model, rows in full_refresh.items():
        assert incremental[model] == rows, (
            f"{model} differs after {len(steps)} steps "
            f"({len(set(incremental[model]) ^ set(rows))} rows)"
        )


def test_a_build_stopped_after_the_identity_components_loses_no_key_change(
        tmp_path, dbt_target):
    """A build killed after int_identity_components committed, before the profile
    models: the next build still records every key change and brings the profile
    to what a full refresh gives."""
    source = tmp_path / "generated"
    generate(source, contacts=150, seed=7, batches=3)
    files = sorted(p for p in source.rglob("*.csv") if "_truth" not in p.parts)
    stamps = sorted({p.stem.rsplit("_", 1)[1] for p in files})
    first = [p for p in files if p.stem.endswith(stamps[0])]
    later = [p for p in files if not p.stem.endswith(stamps[0])]
    warehouse = Warehouse(tmp_path / "warehouse", dbt_target)
    warehouse.land_files(source, first)
    warehouse.build()

    warehouse.land_files(source, later)
    # what a build killed right after the components leaves behind
    warehouse.dbt("build", "--select", "+int_identity_components",
                  "--exclude", "resource_type:test", "resource_type:unit_test")
    warehouse.build()
    latest_keys_disagree = warehouse.query("""
        select count(*) from profile.identities as identities
        full outer join (
            select namespace, identifier, arg_max_null(contact_key, assigned_at) as contact_key
            from profile.identity_key_history group by all
        ) as history using (namespace, identifier)
        where identities.contact_key is distinct from history.contact_key""")
    incremental = warehouse.snapshot()

    warehouse.build(full_refresh=True)
    assert latest_keys_disagree == [(0,)]
    assert incremental == warehouse.snapshot()


def test_a_run_with_nothing_new_changes_nothing_and_writes_zero_rows(tmp_path, dbt_target):
    source = tmp_path / "generated"
    generate(source, contacts=150, seed=3, batches=3)
    files = sorted(p for p in source.rglob("*.csv") if "_truth" not in p.parts)
    warehouse = Warehouse(tmp_path / "warehouse", dbt_target)
    warehouse.land_files(source, files)
    warehouse.build()
    before = warehouse.query("select count(*) from insight.crm_contacts")
    tables_before = {
        model: warehouse.query(f"select * from insight.{model} order by all")
        for model in ("crm_contacts", "crm_purchases", "support_tickets",
                      "campaign_recipients", "campaign_email_events", "crm_contact_deletions")
    }

    warehouse.build()

    audit = warehouse.query(
        "select import_type, rows_read, rows_written, late_rows_caught from ops.watermark_audit "
        "qualify row_number() over (partition by import_type order by run_started_at desc) = 1 "
        "order by import_type"
    )
    assert audit == [
        ("campaign_email_events", 0, 0, 0),
        ("campaign_recipients", 0, 0, 0),
        ("crm_contacts", 0, 0, 0),
        ("crm_purchases", 0, 0, 0),
        ("support_tickets", 0, 0, 0),
    ]
    assert warehouse.query("select count(*) from insight.crm_contacts") == before
    for model, rows in tables_before.items():
        assert warehouse.query(f"select * from insight.{model} order by all") == rows, model


def last_audit(warehouse: Warehouse) -> dict[str, tuple]:
    rows = warehouse.query(
        "select import_type, rows_read, late_rows_caught, rows_written from ops.watermark_audit "
        "qualify row_number() over (partition by import_type order by run_started_at desc) = 1"
    )
    return {import_type: tuple(counts) for import_type, *counts in rows}


def test_late_data_deletions_payments_and_late_submitters_step_by_step(tmp_path, dbt_target):
    source = tmp_path / "extracts"
    warehouse = Warehouse(tmp_path / "warehouse", dbt_target)

    # Day 1: two contacts, an unpaid purchase, a ticket whose submitter is unknown.
    day1 = [
        write_csv(source, "crm/contacts/contacts_1.csv", CONTACTS,
                  "C1,ann@example.com,1 Road,false,2026-06-01T10:00:00Z",
                  "C2,bob@example.com,2 Road,false,2026-06-01T11:00:00Z"),
        write_csv(source, "crm/purchases/purchases_1.csv", PURCHASES,
                  "P1,C1,Pro Plan,2026-06-01T12:00:00Z,,2026-06-01T12:00:00Z"),
        write_csv(source, "support/tickets/tickets_1.csv", TICKETS,
                  "T1,S1,Cannot log in,New,2026-06-01T09:00:00Z,2026-06-01T09:00:00Z"),
        write_csv(source, "campaign/recipients/recipients_1.csv", RECIPIENTS,
                  "R1,rita@example.com,,false,2026-06-01T10:00:00Z"),
    ]
    warehouse.land_files(source, day1)
    warehouse.build()
    assert warehouse.query('select "UniqueId" from insight.crm_contacts order by 1') == [
        ("C1",), ("C2",)]
    assert warehouse.query("select count(*) from insight.crm_purchases") == [(0,)]
    assert warehouse.query('select "UniqueId", "Email" from insight.support_tickets') == [
        ("S1", None)]

    # Day 2: C1 is deleted, P1 is paid, the submitter arrives, and an old version of
    # C2 (from two weeks ago) arrives late.
    day2 = [
        write_csv(source, "crm/contacts/contacts_2.csv", CONTACTS,
                  "C1,ann@example.com,1 Road,true,2026-06-02T08:00:00Z",
                  "C2,old-bob@example.com,Old Road,false,2026-05-18T11:00:00Z"),
        write_csv(source, "crm/purchases/purchases_2.csv", PURCHASES,
                  "P1,C1,Pro Plan,2026-06-01T12:00:00Z,2026-06-02T09:30:00Z,"
                  "2026-06-02T09:30:00Z"),
        write_csv(source, "support/contacts/contacts_2.csv", SUBMITTERS,
                  "S1, Sue@Example.com ,Sue,2026-05-01T00:00:00Z"),
        # R1 changes its email, its first version comes again, R2 arrives late.
        write_csv(source, "campaign/recipients/recipients_2.csv", RECIPIENTS,
                  "R1,rita@new.example.com,,false,2026-06-02T10:00:00Z",
                  "R1,rita@example.com,,false,2026-06-01T10:00:00Z",
                  "R2,ron@example.com,,false,2026-05-01T00:00:00Z"),
    ]
    warehouse.land_files(source, day2)
    warehouse.build()

    assert warehouse.query(
        'select "UniqueId", "Email", "Address" from insight.crm_contacts') == [
        ("C2", "bob@example.com", "2 Road")]
    assert warehouse.query(
        'select "UniqueId", "Timestamp" from insight.crm_contact_deletions') == [
        ("C1", datetime(2026, 6, 2, 8, 0))]
    assert warehouse.query(
        'select "UniqueId", "Predicate", "Object", "Timestamp" from insight.crm_purchases') == [
        ("C1", "Purchased", "Pro Plan", datetime(2026, 6, 2, 9, 30))]
    assert warehouse.query('select "UniqueId", "Email" from insight.support_tickets') == [
        ("S1", "sue@example.com")]
    assert warehouse.query('select "UniqueId", "Email", "Timestamp" from '
                           'insight.campaign_recipients order by 1') == [
        ("R1", "rita@new.example.com", datetime(2026, 6, 2, 10, 0)),
        ("R2", "ron@example.com", datetime(2026, 5, 1))]
    audit = last_audit(warehouse)
    # Three recipient records read, R2 late; R1's change and R2 written, the
    # re-delivered first version of R1 not.
    assert audit["campaign_recipients"] == (3, 1, 2)
    # C2's late version is read and counted as late (older than the watermark minus
    # 72 hours) but does not replace the newer version; C1's deletion writes nothing.
    assert audit["crm_contacts"] == (2, 1, 0)
    # Day 1 wrote no purchase, so the model had no load id to remember: it reads
    # day 1's unpaid version again with day 2's paid one.
    assert audit["crm_purchases"] == (2, 0, 1)
    assert audit["support_tickets"] == (1, 0, 1)


# --- data tests on landed history test what is new -----------------------------------------

UNIQUE_PURCHASE_RECORD = "unique_stg_crm__purchases_landed_record_id"


def test_a_build_tests_the_loads_landed_since_the_last_passing_build(sample, tmp_path):
    database = sample.copy(tmp_path)
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database), "DBT_TARGET_PATH": str(tmp_path / "t")}
    con = duckdb.connect(str(database))
    last = con.execute("select max(load_id) from raw._loads").fetchone()[0]
    # A landed record twice in an old load of staging: the history the last build
    # parsed and tested (the sample's whole build read every load).
    con.execute("insert into staging.stg_crm__purchases select * from staging.stg_crm__purchases "
                "where load_id = (select min(load_id) from staging.stg_crm__purchases) limit 1")
    con.close()

    def build(*options: str):
        return run_cdp("build", *options, "--", "--select", "stg_crm__purchases",
                       UNIQUE_PURCHASE_RECORD, env=env)

    passed = build()
    assert passed.returncode == 0                 # old loads are not tested again
    assert "\x1b[" not in passed.stdout           # dbt's output piped: no colour codes
    assert build("--all-tests").returncode != 0   # unless asked for
    # dbt recorded both in the run manifest, as a selection, the second failed.
    con = duckdb.connect(str(database))
    assert con.execute("select command, scope, passed, through_load_id, tests_since_load_id "
                       "from cdp_state.dbt_invocations order by started_at desc limit 2"
                       ).fetchall() == [("build", None, False, last, -1),
                                        ("build", None, True, last, last)]
    con.close()

    con = duckdb.connect(str(database))   # the same fault in a new load, parsed now
    con.execute("insert into raw.crm_purchases select * replace (? as _load_id) "
                "from raw.crm_purchases limit 1", [last + 1])
    con.execute("insert into raw.crm_purchases select * from raw.crm_purchases "
                "where _load_id = ?", [last + 1])
    con.close()
    assert build().returncode != 0
    con = duckdb.connect(str(database))   # staging parsed the new load, and only it
    assert con.execute("select count(*) from staging.stg_crm__purchases where load_id = ?",
                       [last + 1]).fetchone()[0] == 2
    con.close()


def test_row_accounting_compares_each_load_with_what_landing_recorded(sample, tmp_path):
    database = sample.copy(tmp_path)
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database), "DBT_TARGET_PATH": str(tmp_path / "t")}
    test = "row_accounting_raw_equals_staging_plus_rejected"
    con = duckdb.connect(str(database))
    # A row of an old load lost between landing and staging.
    con.execute("update raw._loads set rows_landed = rows_landed + 1 where load_id = "
                "(select min(load_id) from raw._loads where entity = 'purchases')")
    con.close()
    assert run_cdp("build", "--", "--select", test, env=env).returncode == 0   # tested before
    failed = run_cdp("build", "--all-tests", "--", "--select", test, env=env)
    assert failed.returncode != 0 and f"FAIL 1 {test}" in failed.stdout, failed.stdout


def test_a_build_tests_the_kept_rows_written_since_the_last_passing_build(sample, tmp_path):
    database = sample.copy(tmp_path)
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database), "DBT_TARGET_PATH": str(tmp_path / "t")}
    tests = ["unique_crm_purchases__source_key", "not_null_crm_purchases_UniqueId"]

    def build(*options: str):
        return run_cdp("build", *options, "--", "--select", *tests, env=env)

    def write(statement: str) -> None:
        con = duckdb.connect(str(database))
        con.execute(statement)
        con.close()

    # Rows the last whole, passing build tested (written when it started), broken in
    # place: a key twice, a purchase without its contact.
    write("insert into insight.crm_purchases select * from insight.crm_purchases limit 1")
    write("""update insight.crm_purchases set "UniqueId" = null
             where _source_key = (select max(_source_key) from insight.crm_purchases)""")
    assert build().returncode == 0                # not tested again
    failed = build("--all-tests")                 # unless asked for
    assert failed.returncode != 0
    assert all(f"FAIL 1 {test}" in failed.stdout for test in tests), failed.stdout
    # The same faults in rows a later build wrote: its key is an old row's.
    write("delete from insight.crm_purchases where \"UniqueId\" is null")
    write("delete from insight.crm_purchases where rowid = (select max(rowid) "
          "from insight.crm_purchases)")
    assert build().returncode == 0
    write("""insert into insight.crm_purchases select * replace (null as "UniqueId",
             now()::timestamp + interval 1 hour as _written_at)
             from insight.crm_purchases limit 1""")
    failed = build()
    assert all(f"FAIL 1 {test}" in failed.stdout for test in tests), failed.stdout


def test_a_build_with_nothing_new_runs_nothing_and_any_change_builds_again(
        sample, tmp_path, monkeypatch):
    database = sample.copy(tmp_path)
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database), "DBT_TARGET_PATH": str(tmp_path / "t")}
    skipped = run_cdp("build", env=env)
    assert skipped.returncode == 0 and "nothing to build" in skipped.stdout
    assert not (tmp_path / "t").exists()   # dbt did not start

    monkeypatch.setenv("CDP_DUCKDB_PATH", str(database))
    con = duckdb.connect(str(database))

    def scope(*dbt_args: str, all_tests: bool = False) -> str:
        return BuildPlan.plan(con, list(dbt_args), all_tests).scope

    assert scope() == "skip"
    assert scope("--select", "crm_contacts") == "asked" and scope(all_tests=True) == "asked"
    # A build given dbt arguments (here a var) built something else than a plain one.
    fingerprints = {BuildPlan.plan(con, args, all_tests=False).project_fingerprint
                    for args in ([], ["--vars", "{segments_as_of: '2026-01-01'}"])}
    assert len(fingerprints) == 2
    # An export changed the export state segment membership reads: only what reads it.
    con.execute("insert into cdp_state.segment_export_members (segment_id, recipient_id) "
                "values ('s', 'r')")
    plan = BuildPlan.plan(con, [], all_tests=False)
    assert (plan.scope, plan.dbt_args([])[:4]) == ("export_state", [
        "--select", "source:cdp_state+", "--exclude-resource-type", "unit_test"])
    assert "unit_test" not in plan.dbt_args([], unit_tests=True)
    con.execute("delete from cdp_state.segment_export_members where segment_id = 's'")
    assert scope() == "skip"
    # The last dbt invocation failed or never finished (killed): everything again.
    last = "(select max(started_at) from cdp_state.dbt_invocations)"
    for passed in ("false", "null"):
        con.execute(f"update cdp_state.dbt_invocations set passed = {passed} "
                    f"where started_at = {last}")
        assert scope() == "whole"
    con.execute(f"update cdp_state.dbt_invocations set passed = true where started_at = {last}")
    # A file landed.
    con.execute("insert into raw._loads (load_id, status) "
                "select max(load_id) + 1, 'landed' from raw._loads")
    assert scope() == "whole"
    con.execute("delete from raw._loads where load_id = (select max(load_id) from raw._loads)")
    assert scope() == "skip"
    # The project changed: one comment in one model.
    project = copy_project(tmp_path / "project")
    model = project / "models" / "marts" / "profile" / "contacts.sql"
    model.write_text(model.read_text() + "-- edited\n")
    monkeypatch.setenv("CDP_PROJECT_DIR", str(project))
    changed = BuildPlan.plan(con, [], all_tests=False)
    assert changed.scope == "whole" and changed.project_changed   # a reminder is shown
    con.close()
