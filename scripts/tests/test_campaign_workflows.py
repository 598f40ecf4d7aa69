"""Campaign's import workflows beyond segments: simplified profile data and
personalization lookups, exported to a folder, Azure Blob Storage and SFTP exactly
once per change, split, gzip-compressed, resumable after a kill, governed and held
to the guardrail; segment files with personalization attributes."""

from __future__ import annotations

import csv
import gzip
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from test_export import (
    Exporter,
    assert_nothing_half_written,
    assert_whole,
    destination_for,
    exported_rows,
    local_files,
)

from cdp.errors import CdpError
from cdp.subjects import check_attributes, keyed_subject

from conftest import copy_project

PROFILES = ["export", "campaign-profiles", "--max-rows", "300", "--gzip", "--force"]
LOOKUPS = ["export", "campaign-lookups", "--force"]


def table(exporter: Exporter, relation: str) -> Counter:
    """A table's rows as the CSV files carry them (every cell as text)."""
    con = duckdb.connect(str(exporter.database), read_only=True)
    cells = ", ".join(
        f"""coalesce(strftime("{c}", '%Y-%m-%dT%H:%M:%S.%gZ'), '')""" if t.startswith("TIMESTAMP")
        else f"""coalesce(cast("{c}" as varchar), '')"""
        for c, t in con.execute(f"select column_name, column_type from (describe {relation})"
                                ).fetchall())
    rows = con.execute(f"select {cells} from {relation}").fetchall()
    con.close()
    return Counter(rows)


@pytest.mark.parametrize("kind", ["local", "azure", "sftp"])
def test_profiles_and_lookups_go_once_per_change_split_and_gzipped(kind, sample, tmp_path,
                                                                  azurite, sftp):
    exporter = Exporter(sample, tmp_path)
    url, env, files = destination_for(kind, tmp_path, azurite, sftp)
    assert exporter.cdp(*PROFILES, "--to", url, **env).returncode == 0
    done = exporter.cdp(*LOOKUPS, "--to", url, **env)
    assert done.returncode == 0, done.stderr
    sent = files()
    assert_nothing_half_written(sent)
    profiles = sorted(n for n in sent if n.startswith("campaign/profiles/") and n.endswith(".gz"))
    recipients = exporter.query("select count(*) from campaign.campaign_profiles")[0][0]
    assert len(profiles) == -(-recipients // 300) > 1
    assert all(n.endswith(f"_{part + 1:04d}.csv.gz") for part, n in enumerate(profiles))
    header = gzip.decompress(sent[profiles[0]]).decode().splitlines()[0]
    assert header == "RecipientId,Email,FirstName,LastName,Phone"
    rows = exported_rows(sent)
    assert rows["campaign_profiles"] == table(exporter, "campaign.campaign_profiles")
    assert rows["lookup_products"] == table(exporter, "campaign.campaign_lookup_products")
    assert rows["lookup_recipient_activity"] == table(
        exporter, "campaign.campaign_lookup_recipient_activity")
    # Never a row for someone Campaign does not have.
    recipient_ids = {r for (r,) in exporter.query(
        "select recipient_id from intermediate.int_campaign_recipients_current")}
    assert {row[0] for row in rows["campaign_profiles"]} <= recipient_ids
    # Nothing changed: nothing goes out. One attribute changes: that row goes out.
    assert "nothing new" in exporter.cdp(*PROFILES, "--to", url, **env).stdout
    assert "nothing new" in exporter.cdp(*LOOKUPS, "--to", url, **env).stdout
    con = duckdb.connect(str(exporter.database))
    [(changed,)] = con.execute("""update campaign.campaign_profiles set "FirstName" = 'Zoë'
        where "RecipientId" = (select min("RecipientId") from campaign.campaign_profiles)
        returning "RecipientId" """).fetchall()
    con.close()
    again = exporter.cdp(*PROFILES, "--to", url, **env)
    assert again.returncode == 0 and "exported 1 rows" in again.stdout.replace(",", "")
    latest = exported_rows(files())["campaign_profiles"]
    assert [row for row in latest if row[0] == changed and row[2] == "Zoë"]


@pytest.mark.parametrize(("command", "points"), [
    (PROFILES, ["planned", "stage-file", "staged-file#2", "record", "recorded",
                "publish-file#2", "uploaded-temporary#2", "published-file#3", "done"]),
    (LOOKUPS, ["copy-started", "stage-file#2", "planned#2", "published-file#3"]),
])
def test_a_killed_workflow_export_resumes_without_duplicates_or_gaps(command, points, sample,
                                                                      tmp_path):
    reference = Exporter(sample, tmp_path / "reference")
    assert reference.cdp(*command, "--to", str(tmp_path / "reference" / "out")).returncode == 0
    expected = exported_rows(local_files(tmp_path / "reference" / "out"))
    for point in points:
        case = tmp_path / point.replace("#", "_")
        exporter = Exporter(sample, case)
        out = str(case / "out")
        killed = exporter.cdp(*command, "--to", out, CDP_CRASH_AT=point)
        assert killed.returncode == -9, (point, killed.stderr)
        assert_whole(local_files(case / "out") if (case / "out").exists() else {}, exporter)
        resumed = exporter.cdp(*command, "--to", out)
        assert resumed.returncode == 0, (point, resumed.stderr)
        after = local_files(case / "out")
        assert_nothing_half_written(after, point)
        assert exported_rows(after) == expected, point


@pytest.mark.parametrize("kind", ["azure", "sftp"])
def test_a_workflow_export_killed_while_publishing_to_a_server_resumes(kind, sample, tmp_path,
                                                                        azurite, sftp):
    reference = Exporter(sample, tmp_path / "reference")
    assert reference.cdp(*PROFILES, "--to", str(tmp_path / "reference" / "out")).returncode == 0
    expected = exported_rows(local_files(tmp_path / "reference" / "out"))
    for point in ("uploaded-temporary#2", "published-file#3"):
        case = tmp_path / point.replace("#", "_")
        exporter = Exporter(sample, case)
        url, env, files = destination_for(kind, case, azurite, sftp)
        assert exporter.cdp(*PROFILES, "--to", url, CDP_CRASH_AT=point, **env).returncode == -9
        assert_whole(files(), exporter)
        resumed = exporter.cdp(*PROFILES, "--to", url, **env)
        assert resumed.returncode == 0 and "finished an interrupted export" in resumed.stderr
        assert_nothing_half_written(files(), point)
        assert exported_rows(files()) == expected, point


def test_campaign_workflows_hold_to_the_guardrail(sample, tmp_path):
    exporter = Exporter(sample, tmp_path)
    out = str(tmp_path / "out")
    for kind in ("campaign-profiles", "campaign-lookups"):
        assert exporter.cdp("export", kind, "--to", out).returncode == 0
        refused = exporter.cdp("export", kind, "--to", out, "--full")
        assert refused.returncode == 3
        assert f"{kind} were exported to" in " ".join(refused.stderr.split())
    assert exporter.cdp("export", "campaign-profiles", "--to", out, "--full", "--force"
                        ).returncode == 0


def test_a_refused_label_on_a_profile_attribute_stops_the_export(sample, tmp_path):
    # first_name is a profile attribute and recent_purchasers' personalization.
    project = copy_project(tmp_path / "project")
    models = project / "models" / "marts" / "profile" / "_profile__models.yml"
    models.write_text(models.read_text().replace(
        "meta: {labels: [I2]}", "meta: {labels: [I2, C2]}", 1))
    exporter = Exporter(sample, tmp_path / "warehouse", {
        "CDP_PROJECT_DIR": str(project), "DBT_TARGET_PATH": str(tmp_path / "target")})
    for kind in ("campaign-profiles", "segments"):
        refused = exporter.cdp("export", kind, "--to", str(tmp_path / "out"))
        assert refused.returncode == 1, refused.stdout
        assert ("governance: model profile.contacts, column first_name: label C2 is refused "
                "by destination adobe_campaign") in " ".join(refused.stderr.split())
    assert not (tmp_path / "out").exists()
    assert exporter.query("select count(*) from cdp_state.exports") == [(0,)]


@pytest.mark.integration   # runs dbt
def test_campaign_attributes_that_would_hurt_stop_dbt_and_the_export(tmp_path):
    project = copy_project(tmp_path / "project")
    too_many = {f"Field{n}": "email" for n in range(21)}
    env = dict(os.environ, CDP_DUCKDB_PATH=str(tmp_path / "cdp.duckdb"), DO_NOT_TRACK="1")
    variables = ("{campaign_profile_attributes: {" + ", ".join(
        f"{k}: {v}" for k, v in too_many.items()) + "}, campaign_lookups: {'../evil': "
        "campaign_lookup_products, products: no_such_model}}")
    refused = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "seed", "--project-dir", str(project),
         "--profiles-dir", str(project), "--vars", variables],
        capture_output=True, text=True, env=env, cwd=project, check=False)
    assert refused.returncode != 0
    message = " ".join(refused.stdout.split())
    assert "var campaign_profile_attributes has 21 attributes; Campaign takes at most 20" in message
    assert "campaign lookup name '../evil' is not [a-z0-9_]{1,64}" in message
    assert "campaign lookup products names no_such_model, which is not a model" in message
    with pytest.raises(CdpError, match="has 21 attributes; Campaign takes at most 20"):
        check_attributes("var campaign_profile_attributes", too_many)
    with pytest.raises(CdpError, match="field name 'First-Name' is not"):
        check_attributes("segment x meta.personalization", {"First-Name": "first_name"})
    with pytest.raises(CdpError, match="would lead outside the destination"):
        keyed_subject("campaign-lookups", "evil", "campaign/lookups/../../evil", "m", "t",
                      [("Key", "VARCHAR")], 10, False, False)
    assert not list(tmp_path.rglob("*evil*"))


def test_segment_files_carry_their_personalization_attributes(sample, tmp_path):
    exporter = Exporter(sample, tmp_path)
    assert exporter.cdp("export", "segments", "--to", str(tmp_path / "out")).returncode == 0
    [path] = (tmp_path / "out" / "campaign" / "segments" / "recent_purchasers").glob("*.csv")
    rows = list(csv.DictReader(path.open(newline="")))
    assert list(rows[0]) == ["RecipientId", "Email", "SegmentId", "SegmentName", "Status",
                             "StatusChangedAt", "FirstName"]
    names = dict(exporter.query("""select m.recipient_id, c.first_name
        from campaign.segment_membership as m
        left join profile.contacts as c using (contact_key)
        where m.segment_id = 'recent_purchasers'"""))
    assert {row["RecipientId"]: row["FirstName"] or None for row in rows} == names
    [other] = (tmp_path / "out" / "campaign" / "segments" / "open_support_cases").glob("*.csv")
    assert other.read_text().splitlines()[0].endswith(",StatusChangedAt")
