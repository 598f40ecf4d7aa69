"""`cdp` in scripts and outside the checkout: versions, JSON output, quiet and verbose
runs, a log file per run, the project found wherever the package is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cdp.build import dbt_environment
from cdp.project import project_dir
from cdp_dev.generate import generate

from conftest import copy_project, run_cdp


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CDP_DUCKDB_PATH": str(tmp_path / "cdp.duckdb"),
            "DBT_TARGET_PATH": str(tmp_path / "target"), **extra}


def one_json_object(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout   # nothing else on stdout: no table, no progress
    return json.loads(lines[0])


def test_version_names_cdp_dbt_and_duckdb():
    result = run_cdp("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"cdp \S+ dbt-core 1\.11\.\S+ dbt-duckdb 1\.11\.1 duckdb 2\.0\.1 "
                        r"great-expectations \S+\n", result.stdout), result.stdout


def test_land_and_status_print_one_json_object_that_matches_the_warehouse(tmp_path):
    root = tmp_path / "landing"
    generate(root, contacts=150, seed=3, batches=1)
    env = environment(tmp_path)

    (root / "crm" / "contacts" / "broken.csv").write_text("Id,Email\n1,a@example.com\n")
    landing = run_cdp("land", str(root), "--json", env=env)
    landed = one_json_object(landing)
    again = one_json_object(run_cdp("land", str(root), "--json", env=env))
    status = one_json_object(run_cdp("status", "--json", env=env))

    con = duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True)
    rows, files = con.execute("select sum(rows_landed), count(*) from raw._loads "
                              "where status = 'landed'").fetchone()
    rejected = con.execute("select count(*) from raw._rejected_lines").fetchone()[0]
    con.close()
    assert landed["rows_landed"] == rows > 0 and landed["lines_rejected"] == rejected
    assert [f["status"] for f in landed["files"]].count("landed") == files
    assert set(landed["files"][0]) == {"entity", "path", "status", "rows_landed",
                                       "lines_rejected", "message", "size"}
    # A refused file: in the object, and said on stderr as without --json.
    assert "rejected: crm/contacts/broken.csv: missing required column" in landing.stderr
    assert [f["status"] for f in landed["files"] if f["path"].endswith("broken.csv")] == [
        "rejected"]
    assert {f["status"] for f in again["files"]} <= {"skipped", "rejected"}
    assert again["rows_landed"] == 0
    assert status["warehouse"] == str(tmp_path / "cdp.duckdb")
    assert sum(entity["rows_landed"] for entity in status["sections"]["loads"]) == rows
    assert status["sections"]["rejected_records"] == []   # not built yet


def test_export_and_check_print_one_json_object(sample, tmp_path):
    sample.copy(tmp_path)   # the warehouse environment() names
    env = {**environment(tmp_path), "DBT_TARGET_PATH": str(sample.target)}

    exported = one_json_object(run_cdp("export", "insight", "--to", str(tmp_path / "out"),
                                       "--json", env=env))
    checked = one_json_object(run_cdp("check", "--docs", str(tmp_path / "docs"), "--json",
                                       env=env))

    sent = {s["subject"]: s for s in exported["subjects"]}
    contacts = sent["crm_contacts"]
    assert contacts["status"] == "exported" and contacts["rows"] > 0
    written = [f for f in contacts["files"] if f["name"].endswith(".csv")]
    assert sum(f["rows"] for f in written) == contacts["rows"]
    for file in contacts["files"]:
        assert (tmp_path / "out" / file["name"]).stat().st_size == file["bytes"]
    assert exported["rows_exported"] == sum(s["rows"] for s in exported["subjects"]
                                            if s["status"] == "exported")
    assert checked["checked"] and checked["failures"] == []
    assert {"suite", "rows_checked", "expectations", "failed"} == set(checked["suites"][0])
    assert Path(checked["data_docs"]).exists()


def test_report_shows_runs_loads_and_export_days_as_the_warehouse_holds_them(sample, tmp_path):
    database = sample.copy(tmp_path)
    env = {**environment(tmp_path), "DBT_TARGET_PATH": str(sample.target)}

    def report(*args: str) -> dict[str, list[dict]]:
        return one_json_object(run_cdp("report", "--json", *args, env=env))["sections"]

    def warehouse(sql: str) -> list[tuple]:
        con = duckdb.connect(str(database), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    built = report()
    # Identity health: one row for the one build, counting the profile as it is.
    assert [(r["identifiers"], r["contacts"], r["contacts_merged"], r["links_refused"])
            for r in built["identity_health"]] == warehouse(
        "select (select count(*) from profile.identities), (select count(*) from "
        "profile.contacts), (select count(*) from profile.identity_merges), "
        "(select count(*) from profile.identity_conflicts)")
    # Watermark lag: the run's start less the newest business timestamp, in hours.
    audited = warehouse("select import_type, date_diff('second', watermark_after, "
                        "run_started_at) / 3600, late_rows_caught from ops.watermark_audit")
    shown = sorted((r["import_type"], r["lag_hours"], r["late_rows_caught"])
                   for r in built["watermark_lag"])
    assert len(shown) == len(audited)
    for (kind, lag, late), (audited_kind, hours, audited_late) in zip(shown, sorted(audited)):
        assert (kind, late) == (audited_kind, audited_late) and abs(lag - hours) <= 0.05
    assert all(r["lag_hours"] > 0 for r in built["watermark_lag"])
    # Loads: the latest ten, newest first, with the share of their lines rejected.
    loads = warehouse("select load_id, rows_landed, lines_rejected from raw._loads "
                      "order by load_id desc limit 10")
    assert [(r["load"], r["rows_landed"], r["lines_rejected"]) for r in built["loads"]] == loads
    assert any(r["lines_rejected"] for r in built["loads"])
    for row in built["loads"]:
        total = row["rows_landed"] + row["lines_rejected"]
        assert abs(row["percent_rejected"] - 100 * row["lines_rejected"] / total) <= 0.005
    assert built["export_volumes"] == []

    exported = one_json_object(run_cdp("export", "insight", "--to", str(tmp_path / "out"),
                                       "--json", env=env))
    rebuilt = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "run", "--select", "identity_health",
         "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir())],
        env=env, capture_output=True, text=True, check=False)
    assert rebuilt.returncode == 0, rebuilt.stdout
    later = report()
    assert len(later["identity_health"]) == 2
    assert len(report("--last", "1")["identity_health"]) == 1
    [day] = later["export_volumes"]
    sent = [s for s in exported["subjects"] if s["status"] == "exported"]
    assert (day["destination"], day["kind"], day["exports"], day["rows"]) == (
        str(tmp_path / "out"), "insight", len(sent), exported["rows_exported"])
    assert abs(day["mb"] - sum(f["bytes"] for s in sent for f in s["files"]) / 1e6) <= 0.05

    refused = run_cdp("report", "--last", "0", env=env)
    assert refused.returncode == 2 and "--last" in refused.stderr


@pytest.mark.integration   # runs dbt
def test_quiet_prints_nothing_but_problems_and_every_run_writes_its_log(tmp_path):
    project = copy_project(tmp_path / "project")
    root = tmp_path / "landing"
    generate(root, contacts=100, seed=5, batches=1)
    (root / "crm" / "contacts" / "broken.csv").write_text("Id,Email\n1,a@example.com\n")
    env = environment(tmp_path, CDP_PROJECT_DIR=str(project))

    quiet = run_cdp("-q", "land", str(root), env=env)
    built = run_cdp("-q", "build", "--", "--select", "stg_crm__contacts", "--resource-type",
                    "model", env=env)
    verbose = run_cdp("-v", "status", env=env)

    assert quiet.returncode == 0 and quiet.stdout == ""
    assert "rejected: crm/contacts/broken.csv: missing required column" in quiet.stderr
    # dbt, run in process, quiet too; the run log not echoed by the handlers it sets up
    assert built.returncode == 0 and built.stdout == "" and built.stderr == "", built
    logs = sorted((project / "logs").glob("cdp-*-land.log"))
    assert len(logs) == 1
    text = logs[0].read_text()
    assert f"-q land {root}" in text
    assert "crm/contacts/broken.csv: rejected" in text
    assert re.search(r"INFO cdp: exit code 0 after [\d.]+ s$", text.rstrip()), text
    assert "cdp: exit code 0 after" in verbose.stderr   # the log, shown as it is written


def test_dbt_is_coloured_at_a_terminal_unless_no_color_is_set(monkeypatch):
    # (piped, it never is: test_incremental's builds check their output)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("DBT_USE_COLORS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "DBT_USE_COLORS" not in dbt_environment()
    monkeypatch.setenv("NO_COLOR", "1")
    assert dbt_environment()["DBT_USE_COLORS"] == "false"


@pytest.mark.integration   # runs dbt
def test_the_installed_package_finds_the_project_given_or_says_how_to_give_it(tmp_path):
    # The package's sources alone, so that the build leaves nothing in the checkout.
    sources, site = tmp_path / "sources", tmp_path / "site"
    for part in ("pyproject.toml", "README.md", "LICENSE"):
        (sources / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(project_dir() / part, sources / part)
    shutil.copytree(project_dir() / "scripts" / "cdp", sources / "scripts" / "cdp")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(sources)], capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr
    assert not (site / "dbt_project.yml").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**environment(tmp_path), "PYTHONPATH": str(site)}   # this copy, not the checkout
    env.pop("CDP_PROJECT_DIR", None)
    env.pop("DBT_PROFILES_DIR", None)

    def cdp(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "from cdp.cli import main; main()", *args],
                              cwd=elsewhere, env=env, capture_output=True, text=True,
                              check=False)

    where = subprocess.run([sys.executable, "-c", "import cdp; print(cdp.__file__)"], env=env,
                           capture_output=True, text=True, check=False)
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr
    lost = cdp("status")
    assert lost.returncode == 1 and lost.stdout == ""
    assert lost.stderr.strip() == ("error: no dbt project here: run cdp in the project's folder, "
                                   "or name it with --project-dir or CDP_PROJECT_DIR")
    assert list(elsewhere.iterdir()) == []   # and no warehouse made there
    root = tmp_path / "landing"
    generate(root, contacts=50, seed=1, batches=1)
    found = cdp("--project-dir", str(project_dir()), "land", str(root), "--json")
    assert json.loads(found.stdout)["rows_landed"] > 0, found.stderr


def test_the_vars_a_build_was_given_reach_the_check_and_the_export(sample, tmp_path):
    sample.copy(tmp_path)   # the warehouse environment() names
    env = environment(tmp_path)
    overrides = json.dumps({"identity_component_cap": 2, "campaign_export_interval_hours": 0})
    built = run_cdp("build", "--", "--select", "stg_identity__configured_identifiers",
                    "--vars", overrides, env=env)
    assert built.returncode == 0, built.stdout + built.stderr

    checked = run_cdp("check", "--full", "--docs", str(tmp_path / "docs"), env=env)
    exports = [run_cdp("export", "segments", "--to", str(tmp_path / "out"), env=env)
               for _ in range(2)]

    # The cap the build was given, not dbt_project.yml's 50: merged contacts over it.
    assert checked.returncode == 1
    assert ("FAILED profile.identities: expect_column_values_to_be_between("
            "column='identifiers_of_contact', min_value=1, max_value=2)") in checked.stderr
    # No guardrail interval: a second export right after the first is not refused.
    assert [e.returncode for e in exports] == [0, 0], exports[1].stderr


@pytest.mark.parametrize("command", ["generate", "score"])
def test_development_commands_say_how_to_install_the_development_package(
        command, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from cdp.cli import app
    from cdp.errors import CdpError

    # As where only cdp is installed: importing the development package fails.
    monkeypatch.setitem(sys.modules, f"cdp_dev.{command}", None)

    result = CliRunner().invoke(app, [command, str(tmp_path)])

    assert isinstance(result.exception, CdpError)
    assert str(result.exception) == (
        f"`cdp {command}` is a development command: install the development package "
        "(`make venv`, or `pip install -e scripts/dev`)")
    assert list(tmp_path.iterdir()) == []
