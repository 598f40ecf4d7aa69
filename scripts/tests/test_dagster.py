"""The Dagster example (scripts/orchestration/dagster_cdp.py) materializes the whole
pipeline, from an empty warehouse to exported files, as an orchestrator runs it."""

from __future__ import annotations

import importlib.util

import dagster as dg
import duckdb
import pytest

from cdp.project import project_dir
from cdp_dev.generate import generate

# Dagster runs land, dbt build, check and the exports.
pytestmark = pytest.mark.integration


def load_definitions():
    path = project_dir() / "scripts" / "orchestration" / "dagster_cdp.py"
    spec = importlib.util.spec_from_file_location("dagster_cdp", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.defs


def test_dagster_lands_builds_checks_and_exports_from_an_empty_warehouse(tmp_path, monkeypatch):
    root, out, database = tmp_path / "landing", tmp_path / "out", tmp_path / "cdp.duckdb"
    generate(root, contacts=200, seed=11, batches=1)
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(database))
    monkeypatch.setenv("CDP_LANDING_ROOT", str(root))
    monkeypatch.setenv("CDP_EXPORT_TO", str(out))
    defs = load_definitions()

    result = defs.resolve_implicit_global_asset_job_def().execute_in_process()

    assert result.success
    graph = defs.resolve_asset_graph()
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    # Every asset, dbt's included; the export state the next build reads is the one
    # external asset (the export writes it after the build: a cycle across runs).
    materializable = {key for key in graph.get_all_asset_keys()
                      if graph.get(key).is_materializable}
    assert materialized == materializable
    assert set(graph.get_all_asset_keys()) - materializable == {
        dg.AssetKey(["cdp_state", "segment_export_members"])}
    assert dg.AssetKey(["crm", "contacts"]) in materialized
    assert dg.AssetKey(["insight", "crm_contacts"]) in materialized
    checks = [event.event_specific_data for event in result.all_events
              if event.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(checks) == len(list(graph.asset_check_keys)) > 100   # dbt's data tests
    assert all(check.passed for check in checks)
    con = duckdb.connect(str(database), read_only=True)
    contacts = con.execute('select count(*) from insight.crm_contacts').fetchone()[0]
    exported = con.execute("select count(distinct kind) from cdp_state.exports "
                           "where status = 'done'").fetchone()[0]
    con.close()
    assert contacts > 0 and exported == 5
    assert list((out / "insight").rglob("*.csv")) and list((out / "campaign").rglob("*"))
