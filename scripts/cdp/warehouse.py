"""The warehouse's own tables: the landing manifest, the raw tables, the export state
and dbt's run manifest. Their one definition is the dbt macro `warehouse_ddl`
(macros/warehouse.sql), which dbt runs at the start of every invocation; cdp renders
the same macro with the same raw tables before it lands, builds, checks or exports."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb
import jinja2

from cdp.project import project_dir, raw_entities

DEFINITION = "macros/warehouse.sql"


@cache
def ddl(project: Path) -> str:
    """The statements creating every table that is missing, and columns added since."""
    template = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(
        (project / DEFINITION).read_text())
    raw_tables = [{"name": entity.table, "columns": entity.declared}
                  for entity in sorted(raw_entities().values(), key=lambda e: e.table)]
    return str(template.module.warehouse_ddl(raw_tables))


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(ddl(project_dir()))
