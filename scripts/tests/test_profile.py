"""Unified profile: accuracy against the ground truth, stable keys, merges, deletions."""

from __future__ import annotations

import os

import duckdb
import pytest

from cdp_dev.score import score

from conftest import run_cdp
from incremental import CONTACTS, RECIPIENTS, SUBMITTERS, Warehouse, write_csv


def test_identity_graph_meets_the_accuracy_thresholds_on_generated_data(sample):
    con = sample.connect()
    result = score(con, sample.root / "_truth" / "identities.parquet")
    assert result.records > 2500
    assert result.precision >= 0.999, result
    assert result.recall >= 0.99, result
    # The sample has people sharing role mailboxes: they must not have merged.
    shared = con.execute(
        "select count(*) from profile.identity_conflicts where reason = 'role mailbox'"
    ).fetchone()[0]
    assert shared > 0
    assert result.wrongly_merged_people == 0


def keys(warehouse: Warehouse) -> dict[tuple[str, str], str]:
    return {
        (namespace, identifier): key
        for namespace, identifier, key in warehouse.query(
            "select namespace, identifier, contact_key from profile.identities"
        )
    }


def test_keys_survive_unrelated_data_merges_keep_the_older_key_and_deletions_leave(
    tmp_path, dbt_target
):
    source = tmp_path / "extracts"
    warehouse = Warehouse(tmp_path / "warehouse", dbt_target)

    # Day 1: CRM contact C1 (ann@), and Support contact S1 with another address.
    day1 = [
        write_csv(source, "crm/contacts/contacts_1.csv", CONTACTS,
                  "C1,ann@example.com,1 Road,false,2026-06-01T10:00:00Z",
                  "C9,info@acme.example.com,9 Road,false,2026-06-01T10:00:00Z"),
        write_csv(source, "support/contacts/contacts_1.csv", SUBMITTERS,
                  "S1,Ann.Other@Example.com ,Ann Other,2026-06-01T10:00:00Z",
                  "S9,info@acme.example.com,Info Desk,2026-06-01T10:00:00Z"),
    ]
    warehouse.land_files(source, day1)
    warehouse.build()
    day1_keys = keys(warehouse)
    assert day1_keys[("crm_id", "C1")] != day1_keys[("support_id", "S1")]
    # A shared mailbox links nobody.
    assert day1_keys[("crm_id", "C9")] != day1_keys[("support_id", "S9")]

    # Day 2: unrelated data arrives; then a recipient that names C1 and uses S1's
    # address merges the two, and the key seen first (C1's, landed first) survives.
    warehouse.land_files(source, [write_csv(
        source, "crm/contacts/contacts_2.csv", CONTACTS,
        "C2,bob@example.com,2 Road,false,2026-06-02T10:00:00Z")])
    warehouse.build()
    assert {k: v for k, v in keys(warehouse).items() if k in day1_keys} == day1_keys

    warehouse.land_files(source, [write_csv(
        source, "campaign/recipients/recipients_3.csv", RECIPIENTS,
        "R1,ann.other@example.com,C1,0,2026-06-03T10:00:00Z")])
    warehouse.build()
    merged = keys(warehouse)
    survivor = day1_keys[("crm_id", "C1")]
    assert merged[("support_id", "S1")] == merged[("campaign_id", "R1")] == survivor
    assert warehouse.query(
        "select merged_contact_key, surviving_contact_key, identifiers_moved "
        "from profile.identity_merges") == [(day1_keys[("support_id", "S1")], survivor, 2)]

    # A full refresh of the same landed data gives the same keys.
    warehouse.build(full_refresh=True)
    assert keys(warehouse) == merged

    # Day 4: C2 is deleted in the CRM: its identity leaves, and with nothing else
    # its contact too. C1's deletion would leave Ann's contact, kept by S1 and R1.
    warehouse.land_files(source, [write_csv(
        source, "crm/contacts/contacts_4.csv", CONTACTS,
        "C2,bob@example.com,2 Road,true,2026-06-04T10:00:00Z",
        "C1,ann@example.com,1 Road,true,2026-06-04T10:00:00Z")])
    warehouse.build()
    after = keys(warehouse)
    assert ("crm_id", "C2") not in after and ("email", "bob@example.com") not in after
    assert ("crm_id", "C1") not in after
    assert after[("support_id", "S1")] == after[("campaign_id", "R1")]
    contacts = warehouse.query("select contact_key, email, is_deleted from profile.contacts")
    assert all(key != merged[("crm_id", "C2")] for key, *_ in contacts)
    assert (after[("support_id", "S1")], "ann.other@example.com", False) in contacts


def test_score_command_reports_the_figures(sample, tmp_path):
    env = dict(os.environ, CDP_DUCKDB_PATH=str(sample.database))
    result = run_cdp("score", str(sample.root), "--min-precision", "0.999",
                     "--min-recall", "0.99", env=env)
    assert result.returncode == 0, result.stderr
    assert "pairwise precision" in result.stdout and "people wrongly split" in result.stdout
    failing = run_cdp("score", str(sample.root), "--min-recall", "1.01", env=env)
    assert failing.returncode == 1
    assert "below" in failing.stderr
    missing = run_cdp("score", str(tmp_path), env=env)
    assert missing.returncode == 1 and "no ground truth" in missing.stderr


# --- customer-specific identity namespaces, by configuration only -------------------

LOYALTY_AND_PHONE = ("{identity_namespaces: {"
                     "loyalty_id: {columns: [crm.contacts.LoyaltyId, support.contacts.LoyaltyId],"
                     " links: true},"
                     " phone: {columns: [crm.contacts.Phone], links: false, normalize: digits}}}")


def test_a_configured_namespace_joins_the_graph_and_accuracy_holds(sample, tmp_path,
                                                                   dbt_target):
    warehouse = Warehouse(tmp_path, dbt_target)
    warehouse.database.write_bytes(sample.database.read_bytes())
    warehouse.dbt("build", "--select", "stg_identity__configured_identifiers+",
                  "--exclude", "resource_type:test", "resource_type:unit_test",
                  "--vars", LOYALTY_AND_PHONE)
    con = duckdb.connect(str(warehouse.database), read_only=True)
    # Every CRM phone is in the graph, with its contact's key unless shared.
    phones = con.execute("""
        select count(*), count(*) filter (where i.contact_key = crm.contact_key)
        from profile.identities as i
        inner join staging.stg_crm__contacts as c
            on regexp_replace(c.phone, '[^0-9]', '', 'g') = i.identifier
        inner join profile.identities as crm
            on crm.namespace = 'crm_id' and crm.identifier = c.contact_id
        where i.namespace = 'phone'""").fetchone()
    assert phones[0] > 500 and phones[0] == phones[1]
    shared = con.execute("select count(*) from profile.identity_conflicts where reason = "
                         "'shared identifier of non-linking namespace phone'").fetchone()[0]
    assert shared > 0
    # A phone shared by people merges nobody: the accuracy is what it was.
    before = score(sample.connect(), sample.root / "_truth" / "identities.parquet")
    after = score(con, sample.root / "_truth" / "identities.parquet")
    con.close()
    assert (after.precision, after.recall, after.wrongly_merged_people) == (
        before.precision, before.recall, before.wrongly_merged_people)


def test_a_linking_namespace_links_records_no_email_would(tmp_path, dbt_target):
    source = tmp_path / "extracts"
    warehouse = Warehouse(tmp_path / "warehouse", dbt_target)
    warehouse.land_files(source, [
        write_csv(source, "crm/contacts/contacts_1.csv", CONTACTS + ",LoyaltyId",
                  "C1,ann@work.example.com,1 Road,false,2026-06-01T10:00:00Z, L-7 ",
                  "C2,bob@example.com,2 Road,false,2026-06-01T10:00:00Z,L-8"),
        write_csv(source, "support/contacts/contacts_1.csv", SUBMITTERS + ",LoyaltyId",
                  "S1,ann@home.example.com,Ann,2026-06-01T11:00:00Z,L-7",
                  "S2,cy@example.com,Cy,2026-06-01T11:00:00Z,"),
    ])
    warehouse.dbt("build", "--select", "resource_type:seed", "+identities",
                  "--exclude", "resource_type:test", "resource_type:unit_test",
                  "--vars", LOYALTY_AND_PHONE)
    contact = keys(warehouse)
    assert contact[("crm_id", "C1")] == contact[("support_id", "S1")] == contact[
        ("loyalty_id", "L-7")]
    assert contact[("crm_id", "C2")] == contact[("loyalty_id", "L-8")]
    assert len({contact[("crm_id", "C1")], contact[("crm_id", "C2")],
                contact[("support_id", "S2")]}) == 3
    # Without the declaration the same data gives two people: no SQL was edited.
    warehouse.dbt("build", "--select", "+identities",
                  "--exclude", "resource_type:test", "resource_type:unit_test")
    contact = keys(warehouse)
    assert contact[("crm_id", "C1")] != contact[("support_id", "S1")]
    assert not [k for k in contact if k[0] == "loyalty_id"]


@pytest.mark.integration   # runs dbt
def test_a_bad_namespace_declaration_stops_dbt_naming_it(tmp_path):
    env = dict(os.environ, CDP_DUCKDB_PATH=str(tmp_path / "cdp.duckdb"), DO_NOT_TRACK="1")
    variables = ("{identity_namespaces: {email: {columns: [crm.contacts.Email]},"
                 " loyalty: {columns: [crm.purchases.LoyaltyId]},"
                 " phone: {columns: [crm.contacts.Phone], normalize: upper}}}")
    refused = run_cdp("build", "--", "--select", "stg_identity__configured_identifiers",
                      "--vars", variables, env=env)
    assert refused.returncode != 0
    message = " ".join((refused.stdout + refused.stderr).split())
    assert "Identity namespaces: namespace 'email' must be [a-z0-9_]{1,64} and not one of" \
        in message
    assert "loyalty: crm.purchases.LoyaltyId is not <source>.<entity>.<Column> of" in message
    assert "phone: normalize is lower or digits" in message


def test_identities_built_before_they_followed_changes_are_written_whole_once(sample, tmp_path):
    database = sample.copy(tmp_path)
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database), "DBT_TARGET_PATH": str(tmp_path / "t")}
    keys = "select namespace, identifier, contact_key from profile.identities order by all"
    con = duckdb.connect(str(database))
    expected = con.execute(keys).fetchall()
    # The table as an earlier release built it: no clocks, and an identifier that
    # has left the graph since (its component row a tombstone).
    con.execute("create or replace table profile.identities as "
                "select * exclude (_hwm_load_id, _written_at) from profile.identities")
    con.execute("""insert into profile.identities
                   select * replace ('gone@example.com' as identifier) from profile.identities
                   where namespace = 'email' limit 1""")
    con.execute("""insert into intermediate.int_identity_components
                   select * replace ('gone@example.com' as identifier, 0 as component_size)
                   from intermediate.int_identity_components
                   where namespace = 'email' limit 1""")
    con.close()
    built = run_cdp("build", "--", "--select", "identities", env=env)
    assert built.returncode == 0, built.stdout[-3000:]
    con = duckdb.connect(str(database))
    assert con.execute(keys).fetchall() == expected
    assert con.execute("select count(*) from profile.identities "
                       "where _written_at is null or _hwm_load_id is null").fetchone()[0] == 0
    con.close()
