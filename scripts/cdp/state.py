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
- `tested_loads`: per whole `cdp build` that passed, the loads its data tests on
  landed history covered (after `since_load_id`, through `through_load_id`); the
  next build tests only later loads.
- `segment_export_members`: per destination and segment, the active members as of
  that segment's last export; `campaign.segment_membership` compares the current
  members with the latest export of each segment.
"""

from __future__ import annotations

import duckdb

STATE_DDL = """
create schema if not exists cdp_state;
create table if not exists cdp_state.exports (
    export_id varchar,
    destination varchar,
    kind varchar,
    subject varchar,
    stamp varchar,
    status varchar,
    planned_at timestamp,
    published_at timestamp,
    rows bigint,
    files varchar
);
create table if not exists cdp_state.sent_rows (
    destination varchar,
    subject varchar,
    row_key varchar,
    fingerprint uhugeint,
    export_id varchar
);
create table if not exists cdp_state.segment_export_members (
    segment_id varchar,
    recipient_id varchar,
    exported_at timestamp,
    export_id varchar
);
create table if not exists cdp_state.delete_requests (
    api varchar,
    request_id varchar,
    status varchar,
    data_source varchar,
    subjects bigint,
    submitted_at timestamp,
    export_id varchar
);
create table if not exists cdp_state.tested_loads (
    since_load_id bigint,
    through_load_id bigint,
    tested_at timestamp
);
alter table cdp_state.exports add column if not exists through_load_id bigint;
alter table cdp_state.segment_export_members add column if not exists destination varchar;
alter table cdp_state.segment_export_members add column if not exists email varchar;
alter table cdp_state.segment_export_members add column if not exists segment_name varchar;
"""


def ensure_state_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(STATE_DDL)
