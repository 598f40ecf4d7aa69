"""The export state (schema `cdp_state`), owned by the `cdp` tool and never rebuilt
by dbt; dbt models read `segment_export_members` as the source `cdp_state`.

- `exports`: one row per export of one subject (an import type, a segment or a log)
  to one destination. `pending` from the moment its files are staged and the rows it
  carries are recorded, `done` once every file is durable at the destination. A
  pending export is finished (its staged files published again) before anything new
  is planned for that destination.
  For interactions it holds `through_load_id`, how far (in load ids) the import
  type had read: the next export sends the interactions first landed after it.
- `sent_rows`: per destination and subject, the rows whose content can change
  (contact properties, CRM deletions, log records): the row's key and a
  fingerprint of the content sent, so that a changed row goes out again.
- `delete_requests`: every delete request Insight's API accepted (`cdp export
  insight-deletions`): the API, Insight's request id and status, the data source
  and how many subjects it carried; the deletions it carried are in `sent_rows`
  under the destination `insight-api:<api>`, with the same `export_id`.
- `dbt_invocations`: the run manifest, written by dbt itself (macros/invocations.sql):
  every dbt invocation, whether it was a whole build, whether it passed, the last
  load it read. `cdp build` plans from it (cdp.build.BuildPlan).
- `complete_as_of`: per destination and log with its window size, a moment at
  which the destination had every row of the log that was due (its window closed):
  while nothing is built or landed, only windows closed since can hold new rows.
- `passed_checks`: per `cdp check` that passed, what it checked (cdp.check); the
  next check with nothing built since skips.
- `checked_suites`: per suite of a `cdp check` that passed, the definition checked
  and the latest write time of its rows it read: the next check of the same
  definition checks the rows written after it.
- `segment_export_members`: per destination and segment, the active members as of
  that segment's last export; `campaign.segment_membership` compares the current
  members with the latest export of each segment.

The tables are defined with the warehouse's others, in macros/warehouse.sql.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb


def export_state(con: duckdb.DuckDBPyConnection) -> str:
    """A checksum of the export state dbt reads (segment_export_members): when it
    changes, the models that read it are rebuilt."""
    rows, checksum = con.execute(
        "select count(*), coalesce(bit_xor(hash(members)), 0) "
        "from cdp_state.segment_export_members as members").fetchone()
    return f"{rows}-{checksum}"


def has_state_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute("select count(*) from duckdb_tables() where schema_name = 'cdp_state' "
                       "and table_name = ?", [table]).fetchone()[0] > 0


def as_load_id(value: int | None) -> int:
    """A load id, -1 (before every load) for none."""
    return -1 if value is None else value


@dataclass(frozen=True)
class Invocation:
    """A row of the run manifest, cdp_state.dbt_invocations (macros/invocations.sql)."""

    invocation_id: str
    scope: str | None
    started_at: datetime
    passed: bool | None
    through_load_id: int | None
    project_fingerprint: str | None
    export_state: str | None


def invocations(con: duckdb.DuckDBPyConnection) -> dict[str, Invocation]:
    """The latest dbt invocation (`last`), the latest that was not only a rebuild of
    what reads the export state (`data`), the latest whole `dbt build` that passed
    (`whole`), and the latest passing build of everything or of what reads the export
    state (`export_state`); a key is missing when there is none."""
    if not has_state_table(con, "dbt_invocations"):
        return {}
    which = {"last": "true", "data": "scope is distinct from 'export_state'", "whole": "scope = 'whole' and passed",
             "export_state": "scope in ('whole', 'export_state') and passed"}
    result = {}
    for name, condition in which.items():
        row = con.execute(
            "select invocation_id, scope, started_at, passed, through_load_id, "
            "project_fingerprint, export_state from cdp_state.dbt_invocations "
            f"where {condition} order by started_at desc limit 1").fetchone()
        if row:
            result[name] = Invocation(*row)
    return result
