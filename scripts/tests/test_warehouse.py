"""The warehouse's own tables as ordered migrations with a schema version (cdp.warehouse,
macros/warehouse.sql), applied once by cdp and by dbt alike."""

from __future__ import annotations

import os
import subprocess

import duckdb
import pytest

from cdp import warehouse
from cdp.errors import CdpError
from cdp.project import project_dir

from conftest import BIN

# The tables as a warehouse made before schema versions had them: no version table,
# none of the columns migration 2 adds.
BEFORE_VERSIONS = """
    create schema raw;
    create sequence raw._load_id_seq start 1;
    create table raw._loads (load_id bigint primary key, source varchar, entity varchar,
        file_path varchar, file_hash varchar, file_size bigint, file_format varchar,
        status varchar, rows_landed bigint, lines_rejected bigint, message varchar,
        started_at timestamp, finished_at timestamp);
    create schema cdp_state;
    create table cdp_state.exports (export_id varchar, destination varchar, kind varchar,
        subject varchar, stamp varchar, status varchar, planned_at timestamp,
        published_at timestamp, rows bigint, files varchar);
    create table cdp_state.tested_loads (load_id bigint);
    insert into cdp_state.exports (export_id, destination, kind, status, rows)
        values ('e1', 'file:///out', 'insight', 'done', 7);
"""


def versions(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [row[0] for row in con.execute(
        "select version from cdp_state.schema_version order by version").fetchall()]


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [row[0] for row in con.execute(
        "select column_name from information_schema.columns where table_schema = ? "
        "and table_name = ? order by ordinal_position", [schema, name]).fetchall()]


def test_a_new_warehouse_gets_every_migration_once_then_needs_no_ddl(tmp_path):
    path = str(tmp_path / "cdp.duckdb")
    con = duckdb.connect(path)

    applied = warehouse.create_tables(con)

    latest = warehouse.migrations()[-1].version
    assert [m.version for m in applied] == list(range(1, latest + 1))
    assert versions(con) == list(range(1, latest + 1))
    assert "through_load_id" in columns(con, "cdp_state.exports")
    assert "_load_id" in columns(con, "raw.crm_contacts")
    assert warehouse.create_tables(con) == []
    con.close()
    # Up to date, it writes nothing: a read-only connection does.
    con = duckdb.connect(path, read_only=True)
    assert warehouse.create_tables(con) == []
    assert versions(con) == list(range(1, latest + 1))
    con.close()


def test_a_warehouse_made_before_versions_is_brought_up_to_date_keeping_its_rows():
    con = duckdb.connect()
    con.execute(BEFORE_VERSIONS)

    warehouse.create_tables(con)

    assert versions(con) == [m.version for m in warehouse.migrations()]
    assert columns(con, "cdp_state.exports")[-1] == "through_load_id"
    assert "file_stat" in columns(con, "raw._loads")
    assert con.execute("select export_id, rows, through_load_id from cdp_state.exports"
                       ).fetchall() == [("e1", 7, None)]
    assert con.execute("select count(*) from duckdb_tables() "
                       "where table_name = 'tested_loads'").fetchone() == (0,)
    assert "segment_name" in columns(con, "cdp_state.segment_export_members")


def test_a_migration_added_later_runs_once_after_the_others(monkeypatch):
    con = duckdb.connect()
    warehouse.create_tables(con)
    shipped = warehouse.migrations()
    added = warehouse.Migration(shipped[-1].version + 1, "a test column",
                                "alter table cdp_state.exports add column note varchar;")
    monkeypatch.setattr(warehouse, "migrations", lambda: (*shipped, added))

    assert warehouse.create_tables(con) == [added]
    assert warehouse.create_tables(con) == []
    assert versions(con)[-1] == added.version
    assert columns(con, "cdp_state.exports")[-1] == "note"


def test_a_failing_migration_leaves_neither_its_changes_nor_its_version(monkeypatch):
    con = duckdb.connect()
    warehouse.create_tables(con)
    shipped = warehouse.migrations()
    broken = warehouse.Migration(shipped[-1].version + 1, "half done",
                                 "alter table cdp_state.exports add column note varchar; "
                                 "select * from no_such_table;")
    monkeypatch.setattr(warehouse, "migrations", lambda: (*shipped, broken))

    with pytest.raises(duckdb.CatalogException):
        warehouse.create_tables(con)

    assert versions(con)[-1] == shipped[-1].version
    assert "note" not in columns(con, "cdp_state.exports")


def test_a_warehouse_newer_than_this_cdp_is_refused():
    con = duckdb.connect()
    warehouse.create_tables(con)
    con.execute("insert into cdp_state.schema_version values (999, 'from the future', now())")

    with pytest.raises(CdpError, match="schema version 999, newer than this cdp's"):
        warehouse.create_tables(con)


def dbt_run(path, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CDP_DUCKDB_PATH": str(path),
           "DBT_TARGET_PATH": str(tmp_path / "target")}
    return subprocess.run([str(BIN / "dbt"), "run", "--select", "stg_crm__contacts"],
                          cwd=project_dir(), env=env, capture_output=True, text=True,
                          check=False)


@pytest.mark.integration
def test_dbt_applies_the_same_migrations_once_and_refuses_a_newer_warehouse(tmp_path):
    path = tmp_path / "cdp.duckdb"
    con = duckdb.connect(str(path))
    con.execute(BEFORE_VERSIONS)
    con.close()

    first = dbt_run(path, tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    con = duckdb.connect(str(path))
    applied = con.execute("select version, applied_at from cdp_state.schema_version "
                          "order by version").fetchall()
    assert [version for version, _ in applied] == versions(con)
    assert versions(con) == [m.version for m in warehouse.migrations()]
    assert con.execute("select export_id, through_load_id from cdp_state.exports"
                       ).fetchall() == [("e1", None)]
    # What dbt made, cdp finds up to date.
    assert warehouse.create_tables(con) == []
    con.close()

    again = dbt_run(path, tmp_path)
    assert again.returncode == 0, again.stdout[-3000:]
    con = duckdb.connect(str(path))
    assert con.execute("select version, applied_at from cdp_state.schema_version "
                       "order by version").fetchall() == applied
    con.execute("insert into cdp_state.schema_version values (999, 'from the future', now())")
    con.close()

    refused = dbt_run(path, tmp_path)
    assert refused.returncode != 0
    assert "schema version 999, newer than this project's" in refused.stdout
