"""Insight import types: incremental runs equal a full refresh, whatever the order in
which batches land; a run with nothing new writes nothing."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from cdp.generate import generate

from incremental import Warehouse, random_steps

# CI runs a reproducible subset; `make test-property` runs the full count.
SEQUENCES = int(os.environ.get("CDP_PROPERTY_SEQUENCES", "10"))


@pytest.fixture(scope="module")
def dbt_target(tmp_path_factory) -> Path:
    # One target folder for every invocation, so dbt's partial parsing is reused.
    return tmp_path_factory.mktemp("dbt_target")


@pytest.fixture(autouse=True)
def restore_warehouse_path(monkeypatch):
    # Warehouse points CDP_DUCKDB_PATH at its own file; monkeypatch puts it back.
    monkeypatch.setenv("CDP_DUCKDB_PATH", os.environ.get("CDP_DUCKDB_PATH", ""))


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
                      "campaign_email_events", "crm_contact_deletions")
    }

    warehouse.build()

    audit = warehouse.query(
        "select import_type, rows_read, rows_written, late_rows_caught from ops.watermark_audit "
        "qualify row_number() over (partition by import_type order by run_started_at desc) = 1 "
        "order by import_type"
    )
    assert audit == [
        ("campaign_email_events", 0, 0, 0),
        ("crm_contacts", 0, 0, 0),
        ("crm_purchases", 0, 0, 0),
        ("support_tickets", 0, 0, 0),
    ]
    assert warehouse.query("select count(*) from insight.crm_contacts") == before
    for model, rows in tables_before.items():
        assert warehouse.query(f"select * from insight.{model} order by all") == rows, model
