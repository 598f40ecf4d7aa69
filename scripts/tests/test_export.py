"""`cdp export` end to end, through the command line, to a folder, to Azure Blob
Storage (Azurite) and to an SFTP server: exactly once, crash and resume, destination
faults, governance, the Campaign guardrail and the `cdp run` lock."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from azure.storage.blob import BlobServiceClient

from cdp import export
from cdp.export import nothing_due
from cdp.lock import warehouse_lock
from cdp.project import project_dir
from cdp.subjects import insight_cells, log_subjects
from cdp.validate import validate_insight

from conftest import copy_project, run_cdp
from incremental import CONTACTS, RECIPIENTS, SUBMITTERS, TICKETS, Warehouse, query, write_csv
from servers import Azurite

IMPORT_TYPES = ["crm_contacts", "crm_contact_deletions", "crm_purchases", "support_tickets",
                "campaign_recipients", "campaign_email_events"]


class Exporter:
    """A copy of the built sample warehouse, exported through the `cdp` command."""

    def __init__(self, sample, base: Path, extra_env: dict[str, str] | None = None):
        self.database = sample.copy(base)
        self.env = {
            **os.environ, "CDP_DUCKDB_PATH": str(self.database),
            "DBT_TARGET_PATH": str(sample.target), "CDP_EXPORT_ATTEMPTS": "3",
            "CDP_EXPORT_BACKOFF_SECONDS": "0.05", **(extra_env or {}),
        }

    def cdp(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return run_cdp(*args, env={**self.env, **env})

    def query(self, sql: str) -> list[tuple]:
        return query(self.database, sql)


# --- reading what a destination holds ------------------------------------------

def local_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def blob_files(azurite: Azurite, container: str) -> dict[str, bytes]:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    client = service.get_container_client(container)
    if not client.exists():
        return {}
    return {blob.name.split("/", 1)[1]: client.download_blob(blob.name).readall()
            for blob in client.list_blobs()}


def assert_valid_insight(files: dict[str, bytes]) -> None:
    """`cdp validate insight` finds nothing wrong with the destination's files."""
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if (Path(folder) / "insight").exists():
            report = validate_insight(Path(folder))
            assert report.violations == [], [v.line_text() for v in report.violations[:5]]


def records_of(name: str, content: bytes) -> list[tuple]:
    """A file's data rows: CSV records (gzip-compressed or not), or a delete
    request's subjects."""
    if name.endswith(".gz"):
        name, content = name[:-3], gzip.decompress(content)
    if name.endswith(".json"):
        return [(s["Subject"], s["DataSource"]) for s in json.loads(content)]
    return list(map(tuple, csv.reader(io.StringIO(content.decode("utf-8"), newline=""))))[1:]


def exported_rows(files: dict[str, bytes]) -> dict[str, Counter]:
    """Per import type, every data row of every file that a manifest lists, as a
    multiset; every listed file must be whole (its sha256 as the manifest says), and
    what is under insight/ must pass `cdp validate insight`."""
    assert_valid_insight(files)
    rows: dict[str, Counter] = {}
    for name, data in sorted(files.items()):
        if not name.endswith("_manifest.json"):
            continue
        manifest = json.loads(data)
        folder = name.rsplit("/", 1)[0]
        for listed in manifest["files"]:
            content = files[f"{folder}/{listed['name']}"]
            assert hashlib.sha256(content).hexdigest() == listed["sha256"], listed["name"]
            records = records_of(listed["name"], content)
            assert len(records) == listed["rows"]
            rows.setdefault(manifest["subject"], Counter()).update(records)
    return rows


def assert_nothing_half_written(files: dict[str, bytes], case: str = "") -> None:
    """Every data file under a final name belongs to a manifest, and no temporary
    name is left."""
    listed = set()
    for name, data in files.items():
        if name.endswith("_manifest.json"):
            folder = name.rsplit("/", 1)[0]
            listed |= {f"{folder}/{f['name']}" for f in json.loads(data)["files"]}
    data_files = {n for n in files if not n.endswith("_manifest.json")}
    assert data_files == listed, (case, data_files ^ listed)
    assert not [n for n in files if n.rsplit("/", 1)[-1].startswith(".")]


def as_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return value


def assert_whole(files: dict[str, bytes], exporter: Exporter) -> None:
    """Every file visible under a final name is one the state knows, whole."""
    known = {}
    for (listing,) in exporter.query("select files from cdp_state.exports"):
        known |= {f["name"]: f["sha256"] for f in json.loads(listing)}
    for name, data in files.items():
        if not name.rsplit("/", 1)[-1].startswith("."):
            assert hashlib.sha256(data).hexdigest() == known.get(name), name


# --- exactly once ---------------------------------------------------------------

@pytest.fixture(scope="module")
def reference(sample, tmp_path_factory):
    """One uninterrupted export of the sample: what every other run must equal."""
    base = tmp_path_factory.mktemp("reference")
    exporter = Exporter(sample, base)
    done = exporter.cdp("export", "insight", "--to", str(base / "out"), "--max-rows", "500")
    assert done.returncode == 0, done.stdout + done.stderr
    return exported_rows(local_files(base / "out"))


def test_an_export_sends_every_row_once_and_a_second_sends_nothing(sample, tmp_path, reference):
    exporter = Exporter(sample, tmp_path)
    assert set(reference) == set(IMPORT_TYPES)
    for import_type, rows in reference.items():
        if import_type == "crm_contact_deletions":
            table = exporter.query(f"select \"UniqueId\", 'CRM' from insight.{import_type}")
        else:
            columns = [name for (name,) in exporter.query(
                "select column_name from information_schema.columns where table_schema = "
                f"'insight' and table_name = '{import_type}' and column_name[1] <> '_' "
                "order by ordinal_position")]
            assert columns[:4] == ["UniqueId", "Predicate", "Object", "Timestamp"]
            table = exporter.query(
                f"select {insight_cells(columns)} from insight.{import_type} as r")
        # Every row of the table, once, as the file shows it.
        assert rows == Counter(tuple(map(as_cell, row)) for row in table)
    again = exporter.cdp("export", "insight", "--to", str(tmp_path / "out"))
    assert again.returncode == 0
    first_files = local_files(tmp_path / "out")
    third = exporter.cdp("export", "insight", "--to", str(tmp_path / "out"))
    assert third.returncode == 0
    assert "nothing new to export" in third.stdout
    assert local_files(tmp_path / "out") == first_files
    # --full sends every current row again, and only that import type.
    full = exporter.cdp("export", "insight", "--to", str(tmp_path / "out"),
                        "--import-type", "crm_purchases", "--full")
    assert full.returncode == 0, full.stderr
    twice = exported_rows(local_files(tmp_path / "out"))
    assert twice["crm_purchases"] == reference["crm_purchases"] + reference["crm_purchases"]
    assert twice["crm_contacts"] == reference["crm_contacts"]


def test_a_log_export_reads_no_rows_when_nothing_was_built_landed_or_closed_since(
        sample, tmp_path, monkeypatch):
    exporter = Exporter(sample, tmp_path)
    out = tmp_path / "out"
    first = exporter.cdp("export", "campaign-logs", "--to", str(out))
    assert first.returncode == 0, first.stderr
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(exporter.database))
    con = duckdb.connect(str(exporter.database))
    subjects = log_subjects(con, window_hours=4.0, file_format="csv")
    assert all(nothing_due(con, str(out), subject) for subject in subjects)
    assert not any(nothing_due(con, str(tmp_path / "elsewhere"), s) for s in subjects)
    # Shorter windows close earlier: rows due in them may not have been due before.
    hourly = log_subjects(con, window_hours=1.0, file_format="csv")
    assert not any(nothing_due(con, str(out), subject) for subject in hourly)
    # A file landed since, or a dbt invocation: plan against what was sent, as always.
    con.execute("insert into raw._loads (load_id, status, started_at) "
                "select max(load_id) + 1, 'landed', now() from raw._loads")
    assert not any(nothing_due(con, str(out), subject) for subject in subjects)
    con.execute("delete from raw._loads where load_id = (select max(load_id) from raw._loads)")
    con.execute("update cdp_state.dbt_invocations set started_at = now() "
                "where started_at = (select max(started_at) from cdp_state.dbt_invocations)")
    assert not any(nothing_due(con, str(out), subject) for subject in subjects)
    # Only segment membership rebuilt since (it reads the export state): no log changed.
    con.execute("update cdp_state.dbt_invocations set started_at = started_at - interval 1 day")
    con.execute("insert into cdp_state.dbt_invocations (invocation_id, command, scope, "
                "started_at, passed) values ('rebuilt', 'build', 'export_state', now(), true)")
    assert all(nothing_due(con, str(out), subject) for subject in subjects)
    # Windows closed since (the destination complete as of ten years ago): plan.
    con.execute("update cdp_state.complete_as_of set as_of = as_of - interval 3650 day")
    assert not any(nothing_due(con, str(out), subject) for subject in subjects)
    con.close()
    second = exporter.cdp("export", "campaign-logs", "--to", str(out))
    assert "nothing new to export" in second.stdout


def test_log_windows_sorted_a_few_at_a_time_make_the_same_files(sample, tmp_path, monkeypatch):
    """Stage sorts the log plan by window a batch of windows at a time (the whole
    plan at once spilled over 31 GB at 10M contacts): batches of a few rows must give
    the files one batch gives, each window's rows in its own file."""
    by_one_sort = Exporter(sample, tmp_path / "one")
    assert by_one_sort.cdp("export", "campaign-logs", "--to", str(tmp_path / "one-out")).returncode == 0
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(Exporter(sample, tmp_path / "many").database))
    monkeypatch.setenv("DBT_TARGET_PATH", str(sample.target))
    monkeypatch.setattr(export, "BATCH_ROWS", 40)
    report = export.export_kind("campaign-logs", str(tmp_path / "many-out"), full=False,
                                dry_run=False, guardrail=False, progress=export.Progress())
    logs = next(o for o in report.outcomes if o.subject.name == "broad_log")
    assert len(export.file_batches([(f.name, f.name, f.rows) for f in logs.files])) > 10

    def windows(root: Path) -> dict[str, list[str]]:
        # File names without the export's stamp; rows in order, as order means nothing.
        found = {}
        for path in (root / "campaign" / "logs").rglob("*.csv"):
            log_and_window = path.name.rsplit("_", 1)[0]
            found[log_and_window] = sorted(path.read_text().splitlines()[1:])
        return found

    one, many = windows(tmp_path / "one-out"), windows(tmp_path / "many-out")
    assert len(one) > 10 and one == many


@pytest.mark.parametrize("arguments, message", [
    (["insight", "--to", "s3://bucket/x"], "unknown destination s3://bucket/x"),
    (["insight", "--to", "az://exports/x"], "set AZURE_STORAGE_CONNECTION_STRING"),
    (["insight", "--to", "sftp://host/x"], "use sftp://<user>@<host>[:port]/<path>"),
    (["insight", "--to", "OUT", "--import-type", "crm_leads"], "unknown import type(s) crm_leads"),
])
def test_bad_input_is_one_line_and_writes_nothing(arguments, message, sample, tmp_path):
    exporter = Exporter(sample, tmp_path, {"AZURE_STORAGE_CONNECTION_STRING": ""})
    arguments = [str(tmp_path / "out") if a == "OUT" else a for a in arguments]
    refused = exporter.cdp("export", *arguments)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: ") and message in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    assert exporter.query("select count(*) from cdp_state.exports") == [(0,)]


def test_bad_options_are_refused_before_anything_runs(sample, tmp_path):
    exporter = Exporter(sample, tmp_path)
    for arguments in (["campaign-logs", "--window", "4x"], ["insight", "--max-rows", "0"]):
        refused = exporter.cdp("export", *arguments, "--to", str(tmp_path / "out"))
        assert refused.returncode == 2, refused.stderr
    assert not (tmp_path / "out").exists()


def test_dry_run_writes_nothing(sample, tmp_path):
    exporter = Exporter(sample, tmp_path)
    planned = exporter.cdp("export", "insight", "--to", str(tmp_path / "out"), "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert "would write insight/CRM/crm_contacts/crm_contacts_" in planned.stdout
    assert not (tmp_path / "out").exists()
    assert exporter.query("select count(*) from cdp_state.exports") == [(0,)]


def test_updates_late_records_and_a_late_submitter_go_out_once(tmp_path, dbt_target):
    """Export, land updates and late records, build, export again: every version of
    a contact once, every interaction once, and a ticket submitter's email that
    arrives after the ticket as a property-only row."""
    source = tmp_path / "source"
    warehouse = Warehouse(tmp_path / "warehouse", dbt_target)
    env = dict(os.environ, CDP_DUCKDB_PATH=str(warehouse.database),
               DBT_TARGET_PATH=str(dbt_target))
    out = tmp_path / "out"

    def export() -> subprocess.CompletedProcess:
        result = run_cdp("export", "insight", "--to", str(out), env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    warehouse.land_files(source, [
        write_csv(source, "crm/contacts/contacts_1.csv", CONTACTS,
                  "C1,ann@example.com,1 Road,false,2026-06-01T10:00:00Z",
                  "C2,bob@example.com,2 Road,false,2026-06-01T10:00:00Z"),
        write_csv(source, "support/tickets/tickets_1.csv", TICKETS,
                  "T1,S1,Cannot log in,Open,2026-06-01T09:00:00Z,2026-06-01T09:00:00Z"),
        write_csv(source, "campaign/recipients/recipients_1.csv", RECIPIENTS,
                  "R1,rita@example.com,,false,2026-06-01T10:00:00Z"),
    ])
    warehouse.build()
    export()
    warehouse.land_files(source, [
        # C1 changes; C2 arrives again unchanged; a late, older version of C1 changes nothing.
        write_csv(source, "crm/contacts/contacts_2.csv", CONTACTS,
                  "C1,ann@example.com,9 Avenue,false,2026-06-02T10:00:00Z",
                  "C2,bob@example.com,2 Road,false,2026-06-01T10:00:00Z",
                  "C1,ann@example.com,0 Old Street,false,2026-05-01T10:00:00Z"),
        # T1 is updated (not sent again); T0 is a late ticket, older than T1.
        write_csv(source, "support/tickets/tickets_2.csv", TICKETS,
                  "T1,S1,Cannot log in,Closed,2026-06-01T09:00:00Z,2026-06-02T09:00:00Z",
                  "T0,S2,Refund,Open,2026-05-20T09:00:00Z,2026-05-20T09:00:00Z"),
        # The submitter of T1 arrives after T1 went out without an email.
        write_csv(source, "support/contacts/contacts_2.csv", SUBMITTERS,
                  "S1,sam@example.com,Sam,2026-06-01T08:00:00Z"),
        write_csv(source, "campaign/recipients/recipients_2.csv", RECIPIENTS,
                  "R1,rita@new.example.com,,false,2026-06-02T10:00:00Z",
                  "R1,rita@example.com,,false,2026-06-01T10:00:00Z"),
    ])
    warehouse.build()
    export()
    third = run_cdp("export", "insight", "--to", str(out), env=env)
    assert "nothing new to export" in third.stdout

    rows = exported_rows(local_files(out))
    assert rows["crm_contacts"] == Counter({
        ("C1", "", "", "2026-06-01T10:00:00.000Z", "ann@example.com", "1 Road"): 1,
        ("C2", "", "", "2026-06-01T10:00:00.000Z", "bob@example.com", "2 Road"): 1,
        ("C1", "", "", "2026-06-02T10:00:00.000Z", "ann@example.com", "9 Avenue"): 1,
    })
    assert rows["support_tickets"] == Counter({
        ("S1", "Support Case", "Cannot log in", "2026-06-01T09:00:00.000Z", ""): 1,
        ("S2", "Support Case", "Refund", "2026-05-20T09:00:00.000Z", ""): 1,
        # the late email, as a contact property (Predicate and Object empty)
        ("S1", "", "", "2026-06-01T09:00:00.000Z", "sam@example.com"): 1,
    })
    # A recipient changed later goes out again; an unchanged re-delivery does not.
    assert rows["campaign_recipients"] == Counter({
        ("R1", "", "", "2026-06-01T10:00:00.000Z", "rita@example.com", "", ""): 1,
        ("R1", "", "", "2026-06-02T10:00:00.000Z", "rita@new.example.com", "", ""): 1,
    })


def test_a_contact_created_again_after_its_deletion_gets_no_deletion(tmp_path, dbt_target):
    """Seen at a million contacts: a deletion a later live version supersedes went out,
    and the contact's properties again in the next export, which should have had
    nothing to send."""
    source = tmp_path / "source"
    warehouse = Warehouse(tmp_path / "warehouse", dbt_target)
    env = dict(os.environ, CDP_DUCKDB_PATH=str(warehouse.database),
               DBT_TARGET_PATH=str(dbt_target))
    out = tmp_path / "out"
    warehouse.land_files(source, [
        write_csv(source, "crm/contacts/contacts_1.csv", CONTACTS,
                  "C1,ann@example.com,1 Road,false,2026-06-01T10:00:00Z",
                  "C2,bob@example.com,2 Road,false,2026-06-01T10:00:00Z"),
        write_csv(source, "crm/contacts/contacts_2.csv", CONTACTS,
                  "C1,ann@example.com,1 Road,true,2026-06-02T10:00:00Z",
                  "C1,ann@example.com,3 Road,false,2026-06-03T10:00:00Z",
                  "C2,bob@example.com,2 Road,true,2026-06-02T10:00:00Z"),
    ])
    warehouse.build()
    first = run_cdp("export", "insight", "--to", str(out), env=env)
    assert first.returncode == 0, first.stderr
    second = run_cdp("export", "insight", "--to", str(out), env=env)
    assert "nothing new to export" in second.stdout, second.stdout
    rows = exported_rows(local_files(out))
    assert rows["crm_contacts"] == Counter({
        ("C1", "", "", "2026-06-03T10:00:00.000Z", "ann@example.com", "3 Road"): 1})
    assert rows["crm_contact_deletions"] == Counter({("C2", "CRM"): 1})


# --- crash and resume -------------------------------------------------------------

# Where the export is killed: planning, writing the staged files (during a COPY
# too), recording the state, uploading (a file sent under its temporary name),
# publishing, and after the state says done; then in the second import type.
CRASH_POINTS = [
    "planned", "copy-started", "stage-file#2", "staged-file#1", "record", "recorded",
    "publish-file#2", "uploaded-temporary#2", "published-file#3", "done", "planned#3",
    "staged-file#4",
]
# Before the state records an export nothing has reached the destination, so a kill
# there is the same whatever the destination: remote ones are killed from then on.
PUBLISHING_POINTS = ["record", "recorded", "publish-file#2", "uploaded-temporary#2",
                     "published-file#3", "done"]


def destination_for(kind: str, tmp_path: Path, azurite, sftp) -> tuple[str, dict, callable]:
    if kind == "local":
        folder = tmp_path / "out"
        return str(folder), {}, lambda: local_files(folder) if folder.exists() else {}
    if kind == "azure":
        container = f"c{abs(hash(str(tmp_path))) % 10**8}"
        return (f"az://{container}/exports",
                {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string},
                lambda: blob_files(azurite, container))
    folder = tmp_path.name
    root = sftp.root / folder
    return (f"sftp://{sftp.user}@127.0.0.1:{sftp.port}/{folder}", sftp.environment(tmp_path),
            lambda: local_files(root) if root.exists() else {})


@pytest.mark.parametrize("kind", ["local", "azure", "sftp"])
def test_a_killed_export_resumes_without_duplicates_or_gaps(kind, sample, tmp_path, reference,
                                                            azurite, sftp):
    for point in CRASH_POINTS if kind == "local" else PUBLISHING_POINTS:
        case = tmp_path / point.replace("#", "_")
        exporter = Exporter(sample, case)
        url, env, files = destination_for(kind, case, azurite, sftp)
        killed = exporter.cdp("export", "insight", "--to", url, "--max-rows", "500",
                              CDP_CRASH_AT=point, **env)
        assert killed.returncode == -9, (point, killed.stdout, killed.stderr)
        assert_whole(files(), exporter)
        resumed = exporter.cdp("export", "insight", "--to", url, "--max-rows", "500", **env)
        assert resumed.returncode == 0, (point, resumed.stdout, resumed.stderr)
        after = files()
        assert_nothing_half_written(after, point)
        assert exported_rows(after) == reference, point
        assert exporter.query(
            "select count(*) from cdp_state.exports where status <> 'done'") == [(0,)]


@pytest.mark.parametrize("point", ["record", "recorded", "published-file#1", "done"])
def test_a_killed_segment_export_resumes_with_the_same_members(point, sample, tmp_path):
    reference = Exporter(sample, tmp_path / "reference")
    assert reference.cdp("export", "segments", "--to", str(tmp_path / "reference" / "out")
                         ).returncode == 0
    expected = exported_rows(local_files(tmp_path / "reference" / "out"))
    exporter = Exporter(sample, tmp_path / "case")
    out = str(tmp_path / "case" / "out")
    assert exporter.cdp("export", "segments", "--to", out, CDP_CRASH_AT=point).returncode == -9
    resumed = exporter.cdp("export", "segments", "--to", out, "--force")
    assert resumed.returncode == 0, resumed.stderr
    assert exported_rows(local_files(tmp_path / "case" / "out")) == expected
    # The baseline is what was sent: nothing realized or exited is left to send.
    again = exporter.cdp("export", "segments", "--to", out, "--force")
    assert "nothing new to export" in again.stdout


# --- destination faults -------------------------------------------------------------

def pause_then(exporter: Exporter, args: list[str], env: dict, point: str, action) -> (
        subprocess.CompletedProcess):
    """Run an export that pauses at `point`, do `action` meanwhile, let it go on."""
    marker = exporter.database.parent / "paused"
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "cdp"), *args], cwd=project_dir(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**exporter.env, **env, "CDP_PAUSE_AT": point, "CDP_PAUSE_FILE": str(marker)},
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    action()
    marker.unlink()
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_blob_storage_stopping_mid_export_fails_cleanly_and_the_next_run_completes(
        sample, tmp_path, reference, azurite):
    exporter = Exporter(sample, tmp_path)
    url, env, files = destination_for("azure", tmp_path, azurite, None)
    args = ["export", "insight", "--to", url, "--max-rows", "500"]
    failed = pause_then(exporter, args, env, "published-file#2", azurite.stop)
    assert failed.returncode == 1
    assert f"error: {url}: uploading" in failed.stderr and "failed after 3 attempt(s)" in \
        failed.stderr
    # Nothing is done; the export whose files are staged is pending.
    assert exporter.query("select status, count(*) from cdp_state.exports group by all") == [
        ("pending", 1)]
    azurite.start()
    completed = exporter.cdp(*args, **env)
    assert completed.returncode == 0, completed.stderr
    assert "finished an interrupted export" in completed.stderr
    assert exported_rows(files()) == reference
    # Each blob carries the MD5 of its bytes.
    container = BlobServiceClient.from_connection_string(
        azurite.connection_string).get_container_client(url.split("/")[2])
    for blob in container.list_blobs():
        data = container.download_blob(blob.name).readall()
        assert bytes(blob.content_settings.content_md5) == hashlib.md5(data).digest()


def test_an_sftp_server_stopping_mid_export_then_back(sample, tmp_path, reference, sftp):
    exporter = Exporter(sample, tmp_path)
    url, env, files = destination_for("sftp", tmp_path, None, sftp)
    args = ["export", "insight", "--to", url, "--max-rows", "500"]
    failed = pause_then(exporter, args, env, "published-file#2", sftp.stop)
    sftp.start()
    assert failed.returncode == 1
    assert f"error: {url}: uploading" in failed.stderr
    assert exporter.query("select count(*) from cdp_state.exports where status = 'done'") == [
        (0,)]
    completed = exporter.cdp(*args, **env)
    assert completed.returncode == 0, completed.stderr
    assert exported_rows(files()) == reference


def test_sftp_with_a_key_instead_of_a_password(sample, tmp_path, reference, sftp):
    exporter = Exporter(sample, tmp_path)
    folder = tmp_path.name
    url = f"sftp://{sftp.user}@127.0.0.1:{sftp.port}/{folder}"
    env = sftp.environment(tmp_path, with_key=True)
    done = exporter.cdp("export", "insight", "--to", url, "--max-rows", "500", **env)
    assert done.returncode == 0, done.stderr
    assert exported_rows(local_files(sftp.root / folder)) == reference
    # A host key that is not the server's is refused before anything is sent.
    (tmp_path / "known_hosts").write_text(
        f"[127.0.0.1]:{sftp.port} ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")
    refused = exporter.cdp("export", "segments", "--to", url, **env)
    assert refused.returncode == 1
    assert "the server's host key does not match" in " ".join(refused.stderr.split())


def test_an_unreachable_destination_changes_nothing(sample, tmp_path, sftp):
    exporter = Exporter(sample, tmp_path)
    url, env, _ = destination_for("sftp", tmp_path, None, sftp)
    sftp.stop()
    try:
        failed = exporter.cdp("export", "insight", "--to", url, **env)
    finally:
        sftp.start()
    assert failed.returncode == 1
    assert f"error: {url}: connecting failed after 3 attempt(s)" in failed.stderr
    assert exporter.query("select count(*) from cdp_state.exports") == [(0,)]
    assert exporter.query("select count(*) from cdp_state.sent_rows") == [(0,)]


def test_an_sftp_server_refusing_uploads_mid_export_then_accepting(sample, tmp_path, reference,
                                                                   sftp):
    exporter = Exporter(sample, tmp_path)
    url, env, files = destination_for("sftp", tmp_path, None, sftp)
    sftp.uploads, sftp.refuse_uploads_after = 0, 3
    try:
        failed = exporter.cdp("export", "insight", "--to", url, "--max-rows", "500", **env)
    finally:
        sftp.refuse_uploads_after = None
    assert failed.returncode == 1
    assert "the server refuses uploads" in failed.stderr and url in failed.stderr
    assert exporter.query("select count(*) from cdp_state.exports where status = 'done'") == [
        (0,)]
    completed = exporter.cdp("export", "insight", "--to", url, "--max-rows", "500", **env)
    assert completed.returncode == 0, completed.stderr
    assert exported_rows(files()) == reference


# --- governance, guardrail, lock ------------------------------------------------------

def test_a_refused_label_stops_the_export_before_anything_is_written(sample, tmp_path):
    project = copy_project(tmp_path / "project")
    models = project / "models" / "marts" / "insight" / "_insight__models.yml"
    models.write_text(models.read_text().replace(
        "meta: {labels: [I1]}", "meta: {labels: [I1, C2]}", 1))
    exporter = Exporter(sample, tmp_path / "warehouse", {
        "CDP_PROJECT_DIR": str(project), "DBT_TARGET_PATH": str(tmp_path / "target")})
    refused = exporter.cdp("export", "insight", "--to", str(tmp_path / "out"))
    assert refused.returncode == 1
    assert ("governance: model insight.crm_contacts, column Email: label C2 is refused by "
            "destination sitefinity_insight") in " ".join(refused.stderr.split())
    assert not (tmp_path / "out").exists()
    assert exporter.query("select count(*) from cdp_state.exports") == [(0,)]


def test_a_segment_id_that_leads_outside_the_destination_is_refused(sample, tmp_path):
    exporter = Exporter(sample, tmp_path / "case")
    con = duckdb.connect(str(exporter.database))
    con.execute("update campaign.segment_membership set segment_id = '../../evil' "
                "where segment_id = 'recent_purchasers'")
    con.close()
    refused = exporter.cdp("export", "segments", "--to", str(tmp_path / "case" / "out"))
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "segment id '../../evil' is not [a-z0-9_]{1,64}" in refused.stderr
    assert not (tmp_path / "case" / "out").exists()
    assert not list(tmp_path.rglob("*evil*"))
    assert exporter.query("select count(*) from cdp_state.exports") == [(0,)]


def test_segments_go_to_campaign_at_most_once_per_four_hours(sample, tmp_path):
    exporter = Exporter(sample, tmp_path)
    out = str(tmp_path / "out")
    first = exporter.cdp("export", "segments", "--to", out)
    assert first.returncode == 0, first.stderr
    refused = exporter.cdp("export", "segments", "--to", out, "--full")
    assert refused.returncode == 3
    message = " ".join(refused.stderr.split())
    assert "the next is allowed from" in message and "add --force" in message
    forced = exporter.cdp("export", "segments", "--to", out, "--full", "--force")
    assert forced.returncode == 0, forced.stderr
    # Four hours later the guardrail lets it through.
    con = duckdb.connect(str(exporter.database))
    con.execute("update cdp_state.exports set planned_at = planned_at - interval 4 hours")
    con.close()
    later = exporter.cdp("export", "segments", "--to", out)
    assert later.returncode == 0 and "nothing new to export" in later.stdout
    segments = exporter.query("select count(distinct segment_id) from campaign.segment_membership")
    assert len(list((tmp_path / "out").rglob("*.csv"))) == 2 * segments[0][0]


def test_a_second_run_while_one_holds_the_lock_exits_at_once(sample, tmp_path):
    exporter = Exporter(sample, tmp_path)
    os.environ["CDP_DUCKDB_PATH"] = str(exporter.database)
    with warehouse_lock("run"):
        started = time.monotonic()
        second = exporter.cdp("run", str(sample.root), "--to", str(tmp_path / "out"))
        assert time.monotonic() - started < 20
    assert second.returncode == 5   # lock busy, not a failure
    assert "`cdp run` (pid" in second.stderr and "is using the warehouse" in second.stderr
    assert not (tmp_path / "out").exists()


def test_exporting_before_a_build_says_what_to_do(tmp_path):
    env = {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "empty.duckdb")}
    result = run_cdp("export", "insight", "--to", str(tmp_path / "out"), env=env)
    assert result.returncode == 1
    assert "run `cdp build` before exporting insight" in " ".join(result.stderr.split())
    assert not (tmp_path / "out").exists()
