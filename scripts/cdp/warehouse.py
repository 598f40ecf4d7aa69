"""The warehouse's own tables: the landing manifest, the raw tables, the export state
and dbt's run manifest. The dbt macros in macros/warehouse.sql define them once, as
ordered migrations; `cdp_state.schema_version` records which ran, so each runs once
per warehouse (the idea of dlt's state migrations). dbt applies what is pending at
the start of every invocation (on-run-start: create_warehouse); cdp renders the same
macros (plain Jinja) and applies them before it lands, builds, checks or exports.
A raw table is created when its source is first declared; land adds a column a file
brings that its table lacks."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb

from cdp import macros
from cdp.errors import CdpError
from cdp.project import raw_entities
from cdp.sql import identifier


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


@cache
def migrations() -> tuple[Migration, ...]:
    """In order (macro warehouse_migrations)."""
    return tuple(Migration(m["version"], m["description"], str(m["sql"]))
                 for m in macros.call("warehouse.sql", "warehouse_migrations"))


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The last migration applied; 0 for a warehouse without a version (new, or made
    before versions, whose tables the first migrations bring up to date)."""
    exists = con.execute("select count(*) from duckdb_tables() where schema_name = 'cdp_state' "
                         "and table_name = 'schema_version'").fetchone()[0]
    if not exists:
        return 0
    return con.execute("select coalesce(max(version), 0) from cdp_state.schema_version"
                       ).fetchone()[0]


def create_tables(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Apply the migrations this warehouse has not had, in order, each with its row in
    schema_version, and create the raw tables not there yet; return the migrations
    applied. A warehouse that is up to date costs two queries and no DDL (a read-only
    connection will do)."""
    known = migrations()
    applied = schema_version(con)
    if applied > known[-1].version:
        raise CdpError(f"the warehouse is at schema version {applied}, newer than this cdp's "
                       f"{known[-1].version}: upgrade cdp")
    pending = [m for m in known if m.version > applied]
    for migration in pending:
        con.execute("begin transaction")
        try:
            con.execute(migration.sql)
            con.execute("insert into cdp_state.schema_version values (?, ?, now()::timestamp)",
                        [migration.version, migration.description])
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    existing = {row[0] for row in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()}
    for entity in sorted(raw_entities().values(), key=lambda e: e.table):
        if entity.table not in existing:
            con.execute(str(macros.call("warehouse.sql", "raw_table_ddl",
                                        {"name": entity.table, "columns": entity.declared})))
    return pending


def add_raw_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> None:
    """A column a landed file brings that raw.<table> lacks (text, as landed)."""
    con.execute(f"alter table raw.{identifier(table)} add column {identifier(column)} varchar")
