"""What Sitefinity Insight reads is what it documents: file layout and values,
Campaign recipients mapped to the unified contact, data source names, CRM deletions
through the contact-data management API, and `cdp validate insight` itself."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from test_export import Exporter, exported_rows, local_files

from cdp.errors import CdpError
from cdp.subjects import check_data_source
from cdp.validate import validate_insight

from conftest import copy_project, run_cdp
from servers import InsightApiServer, free_port

HEADERS = {
    "CRM/crm_contacts": "UniqueId,Predicate,Object,Timestamp,Email,Address",
    "CRM/crm_purchases": "UniqueId,Predicate,Object,Timestamp",
    "Support/support_tickets": "UniqueId,Predicate,Object,Timestamp,Email",
    "Campaign/campaign_recipients": "UniqueId,Predicate,Object,Timestamp,Email,FirstName,LastName",
    "Campaign/campaign_email_events": "UniqueId,Predicate,Object,Timestamp",
}


@pytest.fixture(scope="module")
def exported(sample, tmp_path_factory):
    base = tmp_path_factory.mktemp("conformance")
    exporter = Exporter(sample, base)
    done = exporter.cdp("export", "insight", "--to", str(base / "out"))
    assert done.returncode == 0, done.stderr
    return exporter, base / "out"


def csv_records(folder: Path) -> list[dict[str, str]]:
    return [record for path in sorted(folder.glob("*.csv"))
            for record in csv.DictReader(path.open(encoding="utf-8", newline=""))]


def test_the_default_mappings_give_the_documented_headers(exported):
    _, out = exported
    for folder, header in HEADERS.items():
        [path] = (out / "insight" / folder).glob("*.csv")
        assert path.read_text(encoding="utf-8").splitlines()[0] == header, folder
    # Nothing under insight/ is a deletion: deletions are delete-request bodies.
    assert not list((out / "insight").rglob("*deletion*"))
    assert list((out / "insight-delete-requests" / "CRM").glob("crm_contact_deletions_*.json"))
    assert validate_insight(out).violations == []


def test_every_campaign_recipient_reaches_insight_with_its_email(exported):
    exporter, out = exported
    campaign = out / "insight" / "Campaign"
    recipients = csv_records(campaign / "campaign_recipients")
    current = exporter.query(
        "select recipient_id, email from intermediate.int_campaign_recipients_current")
    assert {r["UniqueId"] for r in recipients} == {recipient for recipient, _ in current}
    emails = {r["Email"] for r in recipients}
    assert {email for _, email in current if email} <= emails
    assert all(not r["Predicate"] and not r["Object"] for r in recipients)
    # The Campaign data source's interactions are of recipients that carry an email.
    events = {r["UniqueId"] for r in csv_records(campaign / "campaign_email_events")}
    with_email = {r["UniqueId"] for r in recipients if r["Email"]}
    assert events and len(events & with_email) / len(events) > 0.9


def test_values_arrive_exactly_unless_spreadsheet_safe(sample, tmp_path):
    exporter = Exporter(sample, tmp_path)
    con = duckdb.connect(str(exporter.database))
    con.execute("""update insight.crm_purchases set "Object" = '@home'
        where _source_key = (select min(_source_key) from insight.crm_purchases)""")
    con.execute("""update insight.crm_contacts set "Address" = '=1+2'
        where _source_key = (select min(_source_key) from insight.crm_contacts)""")
    con.close()
    exact = exporter.cdp("export", "insight", "--to", str(tmp_path / "exact"))
    safe = exporter.cdp("export", "insight", "--to", str(tmp_path / "safe"),
                        "--spreadsheet-safe")
    assert exact.returncode == 0 and safe.returncode == 0, exact.stderr + safe.stderr

    def values(out: Path, folder: str, column: str) -> set[str]:
        return {r[column] for r in csv_records(out / "insight" / "CRM" / folder)}

    assert "@home" in values(tmp_path / "exact", "crm_purchases", "Object")
    assert "=1+2" in values(tmp_path / "exact", "crm_contacts", "Address")
    assert "'@home" in values(tmp_path / "safe", "crm_purchases", "Object")
    assert "'=1+2" in values(tmp_path / "safe", "crm_contacts", "Address")
    # The same as a setting of the destination's exposure.
    project = copy_project(tmp_path / "project")
    exposures = project / "models" / "exposures.yml"
    exposures.write_text(exposures.read_text().replace(
        "spreadsheet_safe: false", "spreadsheet_safe: true", 1))
    configured = exporter.cdp("export", "insight", "--to", str(tmp_path / "configured"),
                              CDP_PROJECT_DIR=str(project),
                              DBT_TARGET_PATH=str(tmp_path / "target"))
    assert configured.returncode == 0, configured.stderr
    assert "'=1+2" in values(tmp_path / "configured", "crm_contacts", "Address")


@pytest.mark.parametrize("name, valid", [
    ("CRM", True), ("Web_site.v2-eu", True), ("S" * 32, True), ("S" * 33, False),
    ("Support desk!", False), ("Suppört", False), ("", False), ("a/b", False),
])
def test_data_source_names_follow_insights_rule(name, valid):
    if valid:
        assert check_data_source("support_tickets", name) == name
    else:
        with pytest.raises(CdpError, match="is not a valid Insight data source name"):
            check_data_source("support_tickets", name)


def test_an_invalid_data_source_name_stops_dbt_and_the_export(sample, tmp_path):
    name = "Support desk!"
    project = copy_project(tmp_path / "project")
    settings = project / "dbt_project.yml"
    settings.write_text(settings.read_text().replace(
        "data_source: Support", f"data_source: '{name}'"))
    env = {"CDP_PROJECT_DIR": str(project), "DBT_TARGET_PATH": str(tmp_path / "target")}
    exporter = Exporter(sample, tmp_path / "warehouse", env)
    built = exporter.cdp("build", "--", "--select", "role_mailbox_local_parts")
    assert built.returncode != 0
    assert (f"Insight data source '{name}' of import type support_tickets is not a valid "
            "Insight data source name") in " ".join(built.stdout.split())
    refused = exporter.cdp("export", "insight", "--to", str(tmp_path / "out"))
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert f"Insight data source {name!r} of import type support_tickets" in refused.stderr
    assert not (tmp_path / "out").exists()
    assert exporter.query("select count(*) from cdp_state.exports") == [(0,)]


# --- cdp validate insight ---------------------------------------------------------

GOOD = (b"UniqueId,Predicate,Object,Timestamp,Email\r\n"
        b"C1,Purchased,Pro Plan,2021-02-01T09:15:33.250Z,\r\n"
        b"C2,,,2021-02-01T09:15:33.000Z,b@example.com\r\n")


def write_import(folder: Path, data: bytes, relative: str = "CRM/crm_contacts",
                 rows: int | None = None, name: str = "crm_contacts_20210201T000000Z_0001.csv",
                 listed: bool = True) -> Path:
    target = folder / "insight" / relative
    target.mkdir(parents=True, exist_ok=True)
    (target / name).write_bytes(data)
    if listed:
        counted = rows if rows is not None else max(data.count(b"\r\n") - 1, 0)
        (target / "crm_contacts_20210201T000000Z_manifest.json").write_text(json.dumps({
            "files": [{"name": name, "rows": counted,
                       "sha256": hashlib.sha256(data).hexdigest()}]}))
    return target / name


BAD_FILES = {
    "starts with a byte order mark": b"\xef\xbb\xbf" + GOOD,
    "not UTF-8": GOOD.replace(b"Pro Plan", b"Pro \xff Plan"),
    "header must start with UniqueId,Predicate,Object,Timestamp":
        GOOD.replace(b"UniqueId,Predicate,Object,Timestamp,Email",
                     b"UniqueId,Email,Predicate,Object,Timestamp"),
    "header has an empty or blank column name": GOOD.replace(b",Email\r\n", b", \r\n"),
    "header repeats Email": GOOD.replace(b"Timestamp,Email", b"Timestamp,Email,Email")
    .replace(b".250Z,\r\n", b".250Z,,\r\n").replace(b"b@example.com", b"b@example.com,"),
    "UniqueId is empty": GOOD.replace(b"C2,,,", b",,,"),
    "Timestamp ('2021-02-01 09:15:33') is not Insight's format":
        GOOD.replace(b"2021-02-01T09:15:33.000Z", b"2021-02-01 09:15:33"),
    "an Object without a Predicate": GOOD.replace(b"C2,,,", b"C2,,Pro Plan,"),
    "wrong number of fields": GOOD.replace(b".000Z,b@example.com", b".000Z"),
    "empty file: no header": b"",
    "not RFC 4180 quoting": GOOD.replace(b"Pro Plan", b'"Pro" Plan'),
}


@pytest.mark.parametrize("rule", list(BAD_FILES))
def test_validate_names_the_rule_a_bad_file_breaks(rule, tmp_path):
    path = write_import(tmp_path, BAD_FILES[rule], rows=2)
    report = validate_insight(tmp_path)
    assert any(rule in v.rule for v in report.violations), report.violations
    assert all(v.path.startswith("insight/CRM/crm_contacts/") for v in report.violations)
    # From the command line: one line per violation naming file and rule, exit 1.
    checked = run_cdp("validate", "insight", str(tmp_path))
    assert checked.returncode == 1
    assert f"insight/CRM/crm_contacts/{path.name}" in checked.stderr and rule in " ".join(
        checked.stderr.split())


def test_validate_checks_folders_and_manifests(tmp_path):
    write_import(tmp_path, GOOD)
    assert validate_insight(tmp_path).violations == []
    assert run_cdp("validate", "insight", str(tmp_path)).returncode == 0
    write_import(tmp_path, GOOD, relative="CRM desk/crm_contacts")
    write_import(tmp_path, b"[]", relative="CRM/crm_contact_deletions", name="d.json",
                 listed=False)
    write_import(tmp_path, GOOD, relative="Support/support_tickets", rows=5)
    write_import(tmp_path, GOOD, relative="Campaign/campaign_recipients", listed=False)
    (tmp_path / "insight" / "notes.txt").write_text("hello")
    lines = [v.line_text() for v in validate_insight(tmp_path).violations]
    assert any(line.startswith("insight/CRM desk/") and "data source 'CRM desk'" in line
               for line in lines)
    assert any(line.startswith("insight/CRM/crm_contact_deletions/d.json: not an Insight "
                               "import file") for line in lines)
    assert any(line.startswith("insight/notes.txt: not an Insight import file")
               for line in lines)
    assert any("has 2 record(s), its manifest says 5" in line for line in lines)
    assert any(line.startswith("insight/Campaign/campaign_recipients/") and
               "not listed in a manifest" in line for line in lines)
    broken = tmp_path / "insight" / "Support" / "support_tickets" / \
        "crm_contacts_20210201T000000Z_manifest.json"
    broken.write_text("{not json")
    (tmp_path / "insight" / "Campaign" / "campaign_recipients" /
     "crm_contacts_20210201T000000Z_manifest.json").write_text(json.dumps(
        {"files": [{"name": "gone.csv", "rows": 1, "sha256": "0"}]}))
    lines = [v.line_text() for v in validate_insight(tmp_path).violations]
    assert any(line.startswith("insight/Support/support_tickets/crm_contacts_20210201T000000Z_"
                               "manifest.json: manifest is not readable") for line in lines)
    assert any(line.endswith("lists gone.csv, which is not there") for line in lines)
    manifest = tmp_path / "insight" / "CRM" / "crm_contacts" / \
        "crm_contacts_20210201T000000Z_manifest.json"
    (manifest.parent / "crm_contacts_20210201T000000Z_0001.csv").write_bytes(
        GOOD.replace(b"Pro Plan", b"Pro Plus"))
    lines = [v.line_text() for v in validate_insight(tmp_path).violations]
    assert "insight/CRM/crm_contacts/crm_contacts_20210201T000000Z_0001.csv: sha256 " \
        "differs from its manifest's" in lines


# --- CRM deletions through Insight's API --------------------------------------------

@pytest.fixture
def insight_api():
    server = InsightApiServer()
    server.start()
    yield server
    server.stop()


def deletions_of(exporter: Exporter) -> list[str]:
    return sorted(u for (u,) in exporter.query(
        'select "UniqueId" from insight.crm_contact_deletions'))


def submitted(server: InsightApiServer) -> list[str]:
    return sorted(s["Subject"] for request in server.requests
                  for s in request["TargetSubjects"])


def test_deletions_go_to_the_api_once_each(sample, tmp_path, insight_api):
    exporter = Exporter(sample, tmp_path, insight_api.environment())
    sent = exporter.cdp("export", "insight-deletions", "--api", insight_api.url,
                        "--batch-size", "5")
    assert sent.returncode == 0, sent.stderr
    deletions = deletions_of(exporter)
    assert len(deletions) > 5 and submitted(insight_api) == deletions
    assert all({s["DataSource"] for s in r["TargetSubjects"]} == {"CRM"}
               for r in insight_api.requests)
    assert exporter.query(
        "select request_id, status, subjects from cdp_state.delete_requests order by 1") == [
        (str(r["Id"]), "Pending", len(r["TargetSubjects"])) for r in insight_api.requests]
    again = exporter.cdp("export", "insight-deletions", "--api", insight_api.url)
    assert again.returncode == 0 and "no deletions to send" in again.stdout
    assert submitted(insight_api) == deletions
    status = " ".join(exporter.cdp("status").stdout.split())
    assert "Insight delete requests" in status and insight_api.url in status
    # The keys are never printed.
    for key in (insight_api.ACCESS_KEY, insight_api.DATACENTER_KEY):
        assert key not in sent.stdout + sent.stderr
    # The file export is a destination of its own: it writes every deletion once too.
    out = tmp_path / "out"
    assert exporter.cdp("export", "insight", "--to", str(out)).returncode == 0
    rows = exported_rows(local_files(out))["crm_contact_deletions"]
    assert sorted(subject for subject, _ in rows.elements()) == deletions


def test_a_refused_request_changes_nothing_and_a_later_run_sends_it(sample, tmp_path,
                                                                    insight_api):
    exporter = Exporter(sample, tmp_path, insight_api.environment())
    args = ["export", "insight-deletions", "--api", insight_api.url, "--batch-size", "5"]
    insight_api.fail_next = [0, 400]    # the second request is refused
    refused = exporter.cdp(*args)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: ") and len(refused.stderr.strip().splitlines()) == 1
    assert "a delete request was refused: HTTP 400 Failure 400 on purpose" in refused.stderr
    # The first request was accepted and recorded; the refused one left no trace.
    assert exporter.query("select count(*), sum(subjects) from cdp_state.delete_requests") == [
        (1, 5)]
    assert len(insight_api.requests) == 1
    completed = exporter.cdp(*args)
    assert completed.returncode == 0, completed.stderr
    assert submitted(insight_api) == deletions_of(exporter)


def test_an_expired_token_is_renewed_once(sample, tmp_path, insight_api):
    exporter = Exporter(sample, tmp_path, insight_api.environment())
    insight_api.expire_after = 2
    sent = exporter.cdp("export", "insight-deletions", "--api", insight_api.url,
                        "--batch-size", "3")
    assert sent.returncode == 0, sent.stderr
    assert insight_api.tokens_issued > 1
    assert submitted(insight_api) == deletions_of(exporter)


def test_a_kill_around_the_record_resends_at_most_the_batch_in_flight(sample, tmp_path,
                                                                     insight_api):
    args = ["export", "insight-deletions", "--api", insight_api.url, "--batch-size", "5"]
    # Killed after the first batch was recorded: the rerun sends only the rest.
    exporter = Exporter(sample, tmp_path / "recorded", insight_api.environment())
    assert exporter.cdp(*args, CDP_CRASH_AT="delete-request-recorded").returncode == -9
    assert exporter.cdp(*args).returncode == 0
    assert submitted(insight_api) == deletions_of(exporter)
    # Killed between Insight's answer and the record: that batch goes again, once.
    insight_api.requests.clear()
    exporter = Exporter(sample, tmp_path / "accepted", insight_api.environment())
    assert exporter.cdp(*args, CDP_CRASH_AT="delete-request-accepted").returncode == -9
    first = submitted(insight_api)
    assert exporter.cdp(*args).returncode == 0
    assert len(first) == 5
    assert Counter(submitted(insight_api)) == Counter(deletions_of(exporter)) + Counter(first)
    assert exporter.query("select count(*) from cdp_state.delete_requests") == [
        (len(insight_api.requests) - 1,)]


def test_a_server_error_is_retried_and_the_request_sent_once(sample, tmp_path, insight_api):
    exporter = Exporter(sample, tmp_path, insight_api.environment())
    insight_api.fail_next = [503, 500]
    sent = exporter.cdp("export", "insight-deletions", "--api", insight_api.url)
    assert sent.returncode == 0, sent.stderr
    assert len(insight_api.requests) == 1
    assert submitted(insight_api) == deletions_of(exporter)


@pytest.mark.parametrize("case, message", [
    ("unreachable", "requesting an access token failed after 3 attempt(s)"),
    ("rejected key", "requesting an access token was refused: HTTP 401 Invalid access key."),
    ("no keys", "set CDP_INSIGHT_ACCESS_KEY and CDP_INSIGHT_DATACENTER_KEY"),
    ("not a URL", "--api ftp://x: use the API server's address"),
])
def test_bad_api_settings_are_one_line_and_change_nothing(case, message, sample, tmp_path,
                                                          insight_api):
    env = {"unreachable": insight_api.environment(),
           "rejected key": insight_api.environment(access_key="wrong-key"),
           "no keys": {"CDP_INSIGHT_ACCESS_KEY": "", "CDP_INSIGHT_DATACENTER_KEY": ""},
           "not a URL": insight_api.environment()}[case]
    url = {"unreachable": f"http://127.0.0.1:{free_port()}",
           "not a URL": "ftp://x"}.get(case, insight_api.url)
    exporter = Exporter(sample, tmp_path, env)
    failed = exporter.cdp("export", "insight-deletions", "--api", url)
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: ") and len(failed.stderr.strip().splitlines()) == 1
    assert message in " ".join(failed.stderr.split())
    assert "wrong-key" not in failed.stderr
    assert insight_api.requests == []
    assert exporter.query("select count(*) from cdp_state.delete_requests") == [(0,)]
    assert exporter.query("select count(*) from cdp_state.sent_rows") == [(0,)]


def test_validate_numbers_records_across_malformed_ones_and_caps_what_it_lists(tmp_path):
    mixed = (b"UniqueId,Predicate,Object,Timestamp,Email\r\n"
             b'C1,"Visit\nagain",x,2021-02-01T09:15:33.250Z,\r\n'   # record 2, two lines
             b'C2,Visit,"un"closed,2021-02-01T09:15:33.250Z,\r\n'   # 3: quoting
             b",Visit,o,2021-02-01T09:15:33.250Z,\r\n"              # 4: no UniqueId
             b"C4,Visit,b\r\n"                                      # 5: fields
             b"C5,,b,2021-02-01,e\r\n"                              # 6: two rules
             b"C6,Visit,b,2021-02-01T09:15:33.250Z,e\r\n")
    write_import(tmp_path, mixed, rows=6)
    found = [(v.line, v.rule.split(":")[0].split(" (")[0])
             for v in validate_insight(tmp_path).violations]
    assert found == [(3, "not RFC 4180 quoting"), (4, "UniqueId is empty"),
                     (5, "wrong number of fields"), (6, "Timestamp"),
                     (6, "an Object without a Predicate")]
    many = b"UniqueId,Predicate,Object,Timestamp\r\n" + b"C1,Visit,x,yesterday\r\n" * 25
    write_import(tmp_path, many, rows=25)
    lines = [v.line_text() for v in validate_insight(tmp_path).violations]
    assert len([line for line in lines if "Timestamp ('yesterday')" in line]) == 20
    assert lines[0].endswith("5 more record(s): Timestamp is not Insight's format "
                             "(UTC, e.g. 2021-02-01T09:15:33.250Z)")
