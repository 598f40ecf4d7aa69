"""`cdp check`: the suites pass on the built sample, and each fails, naming the
expectation, on a table corrupted the way it guards against."""

from __future__ import annotations

import html
import json
import os
import re

import duckdb
import pytest

from cdp import data_docs
from cdp.check import check
from cdp.suites import DBT_TEST_OF_RULE, all_suites, dbt_tested, declared_tests

from conftest import run_cdp


def test_a_failed_expectation_is_one_line_and_a_non_zero_exit(sample, tmp_path):
    database = sample.copy(tmp_path)
    con = duckdb.connect(str(database))
    con.execute("""update insight.crm_contacts set "Email" = 'ann at example.com'
                   where _source_key = (select min(_source_key) from insight.crm_contacts)""")
    con.close()
    failed = run_cdp("check", "--docs", str(tmp_path / "docs"),
                     env={**os.environ, "CDP_DUCKDB_PATH": str(database)})
    assert failed.returncode == 1
    lines = [line for line in failed.stderr.splitlines() if line.startswith("FAILED")]
    [line] = lines
    assert line.startswith("FAILED insight.crm_contacts: expect_column_values_to_match_regex("
                           "column='Email', ")
    assert re.search(r": 1 of [\d,]+ rows unexpected \(e\.g\. 'ann at example\.com'\)$", line)
    assert "1 failed" in failed.stdout


def test_the_sample_passes_and_the_command_writes_data_docs(sample, tmp_path):
    database, docs = sample.copy(tmp_path / "warehouse"), tmp_path / "docs"
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database)}
    done = run_cdp("check", "--docs", str(docs), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout
    assert (docs / "index.html").exists()
    assert list((docs / "validations").rglob("*.html"))
    # Nothing built or landed since it passed: nothing to check, unless asked.
    again = run_cdp("check", "--docs", str(docs), env=env)
    assert again.returncode == 0 and "nothing to check" in again.stdout
    assert "0 failed" in run_cdp("check", "--docs", str(docs), "--full", env=env).stdout
    # Only segment membership rebuilt since (an export changed the export state).
    con = duckdb.connect(str(database))
    con.execute("insert into cdp_state.dbt_invocations (invocation_id, command, scope, "
                "started_at, passed) values ('rebuilt', 'build', 'export_state', now(), true)")
    con.close()
    membership = run_cdp("check", "--docs", str(docs), env=env).stdout
    assert "campaign.segment_membership" in membership and "in 1 suites, 0 failed" in membership
    con = duckdb.connect(str(database))
    con.execute("insert into raw._loads (load_id, status) "
                "select max(load_id) + 1, 'landed' from raw._loads")
    con.close()
    last = run_cdp("check", "--docs", str(docs), "--json", env=env)
    assert last.returncode == 0 and json.loads(last.stdout)["failures"] == []
    assert_pages_render_offline(docs)
    # Three checks of every suite (the first, --full, the last) and one of membership's.
    assert_great_expectations_project(tmp_path / "warehouse" / "gx", docs,
                                      json.loads(last.stdout), checks=3)


def assert_pages_render_offline(docs) -> None:
    """Every script, style and image a page loads is a file of the Data Docs folder."""
    pages = list(docs.rglob("*.html"))
    assert pages
    for page in pages:
        loaded = re.findall(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]+)"',
                            page.read_text(encoding="utf-8"))
        assert len(loaded) >= 15, page
        for address in loaded:
            assert not address.startswith(("http:", "https:", "//")), (page, address)
            assert (page.parent / address).is_file(), (page, address)


def view_as_table(view: str, select: str) -> list[str]:
    """Statements that replace a view by a table of `select` over its rows (view_rows)."""
    return [f"create table view_rows as select * from {view}", f"drop view {view}",
            f"create table {view} as {select}"]


CORRUPTIONS = {
    "a timestamp not in Insight's format": (
        ["""create or replace table insight.crm_purchases as
            select * replace (strftime("Timestamp", '%d/%m/%Y %H:%M') as "Timestamp")
            from insight.crm_purchases"""],
        "insight.crm_purchases: expect_column_values_to_match_regex(column='Timestamp'"),
    "a predicate outside the mapping": (
        ["""update insight.support_tickets set "Predicate" = 'Support case'
            where _source_key = (select min(_source_key) from insight.support_tickets)"""],
        "insight.support_tickets: expect_column_values_to_be_in_set(column='Predicate'"),
    "a malformed email": (
        ["""update insight.crm_contacts set "Email" = 'ann at example.com'
            where _source_key = (select max(_source_key) from insight.crm_contacts)"""],
        "insight.crm_contacts: expect_column_values_to_match_regex(column='Email'"),
    "a contact without an identity": (
        ["""update profile.contacts set contact_key = 'ck_nobody'
            where contact_key = (select min(contact_key) from profile.contacts)"""],
        "profile.contacts: expect_column_values_to_be_in_set(column='has_identity'"),
    "a merged contact over the cap": (
        ["""update profile.identities set contact_key = 'ck_everyone'
            where identifier in (select identifier from profile.identities limit 60)"""],
        "profile.identities: expect_column_values_to_be_between(column='identifiers_of_contact'"),
    "a suppressed recipient in a segment": (
        ["""insert into campaign.segment_membership
            select segment_id, recipient_id, segment_name, contact_key, email, 'existing',
                now()::timestamp
            from campaign.segment_candidates where suppressed_because is not null
            limit 1"""],
        "campaign.segment_membership: expect_column_values_to_be_in_set(column='is_suppressed_member'"),
    "a member Campaign does not have": (
        ["""insert into campaign.segment_membership values
            ('recent_purchasers', 'R-unknown', 'Recent purchasers', null, null, 'realized',
             now()::timestamp)"""],
        "campaign.segment_membership: expect_column_values_to_be_in_set(column='is_campaign_recipient'"),
    "an interaction without its contact": (
        ["""update profile.interactions set contact_key = null
            where source_key = (select min(source_key) from profile.interactions
                                where import_type = 'support_tickets')"""],
        "profile.interactions: expect_column_values_to_be_in_set(column='is_without_contact'"),
    "an unknown trackingLog event": (
        view_as_table("campaign.tracking_log", """select * replace (
                case when trackinglog_id = (select min(trackinglog_id) from view_rows)
                    then 'message.forward' else event_type end as event_type)
            from view_rows"""),
        "campaign.tracking_log: expect_column_values_to_be_in_set(column='event_type'"),
    "an unknown quarantine status": (
        view_as_table("campaign.non_deliverable_addresses",
                      "select * replace ('Blocked' as status) from view_rows"),
        "campaign.non_deliverable_addresses: expect_column_values_to_be_in_set(column='status'"),
    "a conflict without a reason we know": (
        ["""update profile.identity_conflicts set reason = 'looked odd'
            where identifier = (select min(identifier) from profile.identity_conflicts)"""],
        "profile.identity_conflicts: expect_column_values_to_match_regex(column='reason'"),
    "a suppression reason we do not know": (
        view_as_table("campaign.segment_suppressions", """select * from view_rows
            union all select 'recent_purchasers', 'unsubscribed', 3"""),
        "campaign.segment_suppressions: expect_column_values_to_be_in_set(column='reason'"),
    "an audit row with a negative count": (
        ["update ops.watermark_audit set late_rows_caught = -1 where rows_read > 0"],
        "ops.watermark_audit: expect_column_values_to_be_between(column='late_rows_caught'"),
    "profile data for someone Campaign does not have": (
        ["""insert into campaign.campaign_profiles ("RecipientId") values ('NOT-A-RECIPIENT')"""],
        ("campaign.campaign_profiles: expect_column_values_to_be_in_set("
         "column='is_campaign_recipient'")),
    "two current preferences for one channel": (
        ["insert into profile.preferences select * from profile.preferences limit 1"],
        "profile.preferences: expect_compound_columns_to_be_unique("),
}


def test_an_interaction_that_arrived_before_its_record_passes_the_check(sample, tmp_path):
    # Seen at 1M contacts: purchases landed in a batch before their CRM contact.
    database = sample.copy(tmp_path)
    con = duckdb.connect(str(database))
    con.execute("""insert into profile.interactions
        select * replace (null as contact_key, 'CRM-NOT-LANDED-YET' as unique_id,
                          'PUR-NOT-LANDED-YET' as source_key)
        from profile.interactions where import_type = 'crm_purchases' limit 1""")
    suites = [s for s in all_suites(con) if s.name == "profile.interactions"]
    results = check(con, suites, tmp_path / "docs")
    con.close()
    assert [f.line() for r in results for f in r.failures] == []


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupted_table_fails_the_check_naming_the_expectation(corruption, sample, tmp_path):
    database = sample.copy(tmp_path)
    statements, expected = CORRUPTIONS[corruption]
    con = duckdb.connect(str(database))
    con.execute("set TimeZone = 'UTC'")
    for statement in statements:
        con.execute(statement)
    # The suite of the corrupted table (the sample passes them all, see above).
    suites = [s for s in all_suites(con) if expected.startswith(f"{s.name}: ")]
    assert len(suites) == 1
    results = check(con, suites, tmp_path / "docs", full=True)
    con.close()
    failures = [f.line() for r in results for f in r.failures]
    assert any(line.startswith(expected) for line in failures), failures


def assert_great_expectations_project(gx, docs, last: dict, checks: int) -> None:
    """`gx/` holds what Great Expectations users look for: the suites, the validation
    definitions and checkpoints, and every check's results with DuckDB's counts; the
    Data Docs index at `docs` lists every check."""
    import great_expectations

    assert (gx / "great_expectations.yml").exists()
    context = great_expectations.get_context(mode="file", project_root_dir=str(gx.parent))
    checked = {suite["suite"]: suite for suite in last["suites"]}
    assert {suite.name for suite in context.suites.all()} == set(checked)
    assert {definition.name for definition in context.validation_definitions.all()} \
        == set(checked)
    results = {}
    for key in context.validation_results_store.list_keys():
        results.setdefault(key.expectation_suite_identifier.name, []).append(key)
    assert set(results) == set(checked)
    assert all(len({key.run_id.run_name for key in keys}) >= checks for keys in results.values())
    latest = max(results["insight.crm_contacts"], key=lambda key: key.run_id.run_time)
    stored = context.validation_results_store.get(latest)
    rows = checked["insight.crm_contacts"]["rows_checked"]
    assert stored.success and stored.meta["batch_spec"]["rows_checked"] == rows
    assert {r.result["element_count"] for r in stored.results} == {rows}
    # Data Docs: one site, at --docs, whose index lists every check.
    assert list(context.list_data_docs_sites()) == ["cdp"]
    index = (docs / "index.html").read_text(encoding="utf-8")
    names = {key.run_id.run_name for keys in results.values() for key in keys}
    assert len(names) >= checks and all(name in index for name in names)
    assert not list((gx / "uncommitted").rglob("*.html"))   # no second site


def test_a_check_after_a_passing_one_checks_the_rows_written_since(sample, tmp_path):
    database, docs = sample.copy(tmp_path), tmp_path / "docs"
    env = {**os.environ, "CDP_DUCKDB_PATH": str(database)}
    assert "0 failed" in run_cdp("check", "--docs", str(docs), "--full", env=env).stdout

    def land_and_write(*statements: str) -> None:
        # What a build after a new load does: rows written with the build's start time.
        con = duckdb.connect(str(database))
        con.execute("insert into raw._loads (load_id, status) "
                    "select max(load_id) + 1, 'landed' from raw._loads")
        for statement in statements:
            con.execute(statement)
        con.close()

    # An old row broken in place (never rewritten) is not read again ...
    land_and_write("""update insight.crm_contacts set "Email" = 'ann at example.com'
                      where _source_key = (select max(_source_key) from insight.crm_contacts)""")
    incremental = run_cdp("check", "--docs", str(docs), env=env)
    assert incremental.returncode == 0 and "0 failed" in incremental.stdout
    # ... but a check of every row finds it.
    full = run_cdp("check", "--docs", str(docs), "--full", env=env)
    assert full.returncode == 1
    assert "FAILED insight.crm_contacts: expect_column_values_to_match_regex(column='Email'" \
        in full.stderr
    # A row written since, whose key an old row has, breaks uniqueness; it is the one
    # row of its table checked.
    con = duckdb.connect(str(database))
    con.execute("""update insight.crm_contacts set "Email" = 'ann@example.com'
                   where "Email" = 'ann at example.com'""")
    con.close()
    land_and_write("""insert into profile.interactions
                      select * replace (now()::timestamp + interval 1 hour as _written_at)
                      from profile.interactions where contact_key is not null limit 1""")
    duplicated = run_cdp("check", "--docs", str(docs), env=env)
    assert duplicated.returncode == 1
    [line] = [line for line in duplicated.stderr.splitlines() if line.startswith("FAILED")]
    assert line.startswith("FAILED profile.interactions: expect_compound_columns_to_be_unique("
                           "column_list=['import_type', 'source_key']): 1 of 1 rows unexpected"), line


def page_text(path) -> str:
    text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
    return html.unescape(re.sub(r"\s+", " ", text))


def test_data_docs_report_the_counts_over_every_row_checked_not_over_the_sample(
        sample, tmp_path):
    database, docs = sample.copy(tmp_path), tmp_path / "docs"
    con = duckdb.connect(str(database))
    con.execute("""update insight.crm_contacts set "Email" = 'not-an-email' where _source_key in
                   (select _source_key from insight.crm_contacts order by all limit 7)""")
    rows = con.execute("select count(*) from insight.crm_contacts").fetchone()[0]
    suites = [s for s in all_suites(con) if s.name == "insight.crm_contacts"]
    check(con, suites, docs, full=True)
    con.close()

    [validation] = (docs / "validations").rglob("*.html")
    run = validation.relative_to(docs / "validations" / "insight" / "crm_contacts").parts[0]
    assert re.fullmatch(r"cdp-check-\d{8}T\d{6}Z", run)   # a named run, not __none__
    shown = page_text(validation)
    assert f"7 unexpected values found. ≈{100 * 7 / rows:.4f}% of {rows} total rows" in shown
    assert "Data asset: insight.crm_contacts" in shown
    assert f"rows_checked {rows}" in shown and "checked every row" in shown
    assert "Status: Failed" in shown and "Unsuccessful Expectations 1" in shown
    suite_page = page_text(docs / "expectations" / "insight" / "crm_contacts.html")
    for page in (shown, suite_page):
        assert "_check" not in page.replace("rows_checked", "")   # the sample's condition
    assert "Counted by DuckDB over every row checked" in suite_page
    assert_pages_render_offline(docs)


def test_without_the_npm_packages_data_docs_load_from_cdns_and_say_so(
        sample, tmp_path, monkeypatch, caplog):
    database, docs = sample.copy(tmp_path), tmp_path / "docs"
    monkeypatch.setattr(data_docs, "node_modules", lambda: tmp_path / "no_node_modules")
    con = duckdb.connect(str(database))
    check(con, [s for s in all_suites(con) if s.name == "insight.crm_contacts"], docs)
    con.close()
    assert "Data Docs pages load their scripts from CDNs" in caplog.text
    assert "npm ci" in caplog.text
    assert "https://code.jquery.com/jquery-3.7.1.min.js" in (docs / "index.html").read_text()
    assert not (docs / "static" / "vendor").exists()


def test_great_expectations_does_not_repeat_what_dbt_tests(sample):
    tested = dbt_tested()
    # dbt's tests of keys and required values (run by every build, before any export)
    for guard in [("not_null", "crm_contacts", ("UniqueId",)),
                  ("unique", "campaign_email_events", ("_source_key",)),
                  ("unique", "contacts", ("contact_key",)),
                  ("not_null", "crm_contact_deletions", ("Timestamp",)),
                  ("unique", "broad_log", ("broadlog_id",)),
                  ("unique_combination", "identities", ("namespace", "identifier"))]:
        assert guard in tested
    con = sample.connect()
    suites = all_suites(con)
    con.close()
    repeated = [(suite.name, rule) for suite in suites for rule in suite.expectations
                if (DBT_TEST_OF_RULE.get(rule.expectation_type), suite.name.split(".")[1],
                    tuple(rule.kwargs.get("column_list") or [rule.kwargs.get("column")]))
                in tested]
    assert repeated == []
    kinds = {rule.expectation_type for suite in suites for rule in suite.expectations}
    assert "expect_compound_columns_to_be_unique" in kinds   # what dbt does not say stays
    # A test limited by `where` does not test every row: the rule stays in the suite.
    assert declared_tests([{"not_null": {"config": {"where": "x > 1"}}}, "unique"]) == [
        ("unique", {})]
