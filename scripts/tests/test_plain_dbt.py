"""dbt run on its own, as a person or an orchestrator runs it: no `cdp` before it."""

from __future__ import annotations

import os
import subprocess

import duckdb
import pytest

from cdp.warehouse import create_tables

from conftest import BIN, copy_project

COLUMNS = ("select table_schema, table_name, column_name, data_type "
           "from information_schema.columns where table_schema in ('raw', 'cdp_state') "
           "order by all")


# dbt build on a new warehouse.
pytestmark = pytest.mark.integration


def test_plain_dbt_build_works_on_an_empty_warehouse_started_from_another_folder(tmp_path):
    project, elsewhere = copy_project(tmp_path / "project"), tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "CDP_DUCKDB_PATH": "warehouse/new/cdp.duckdb",
           "DBT_TARGET_PATH": str(tmp_path / "target")}
    env.pop("DBT_PROFILES_DIR", None)

    built = subprocess.run(
        [str(BIN / "dbt"), "build", "--project-dir", str(project), "--profiles-dir", str(project)],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=False)

    assert built.returncode == 0, built.stdout[-3000:]
    # The relative path is the project's, its missing folders created; nothing lands
    # in the folder dbt was started from.
    database = project / "warehouse" / "new" / "cdp.duckdb"
    assert database.exists()
    assert list(elsewhere.iterdir()) == []
    con = duckdb.connect(str(database), read_only=True)
    created_by_dbt = con.execute(COLUMNS).fetchall()
    assert con.execute("select scope, passed, through_load_id "
                       "from cdp_state.dbt_invocations").fetchall() == [("whole", True, None)]
    assert con.execute("select count(*) from profile.contacts").fetchone() == (0,)
    con.close()
    # The same tables and columns as `cdp` creates: one definition.
    mine = duckdb.connect()
    create_tables(mine)
    assert created_by_dbt == mine.execute(COLUMNS).fetchall()
    assert ("raw", "crm_contacts", "_loaded_at", "TIMESTAMP") in created_by_dbt
