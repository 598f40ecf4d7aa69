"""The export state (schema `cdp_state`), owned by the `cdp` tool and never rebuilt
by dbt; dbt models read it as the source `cdp_state`.

`segment_export_members` holds, per segment, the active members as of that segment's
last successful export: `campaign.segment_membership` compares the current members
with it to tell realized, existing and exited."""

from __future__ import annotations

import uuid

import duckdb

STATE_DDL = """
create schema if not exists cdp_state;
create table if not exists cdp_state.segment_exports (
    export_id varchar,
    segment_id varchar,
    exported_at timestamp,
    members bigint,
    realized bigint,
    exited bigint
);
create table if not exists cdp_state.segment_export_members (
    segment_id varchar,
    recipient_id varchar,
    exported_at timestamp,
    export_id varchar
);
"""


def ensure_state_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(STATE_DDL)


def record_segment_export(con: duckdb.DuckDBPyConnection, segment_id: str) -> str:
    """Record that `segment_id` was exported as campaign.segment_membership shows it
    now: its active members become the baseline for the next statuses. One
    transaction, so the state is either the old one or the new one."""
    export_id = str(uuid.uuid4())
    con.execute("begin transaction")
    try:
        counts = con.execute(
            """
            select
                count(*) filter (where status <> 'exited'),
                count(*) filter (where status = 'realized'),
                count(*) filter (where status = 'exited')
            from campaign.segment_membership where segment_id = ?
            """,
            [segment_id],
        ).fetchone()
        con.execute("delete from cdp_state.segment_export_members where segment_id = ?",
                    [segment_id])
        con.execute(
            """
            insert into cdp_state.segment_export_members
            select segment_id, recipient_id, now()::timestamp, ?
            from campaign.segment_membership
            where segment_id = ? and status <> 'exited'
            """,
            [export_id, segment_id],
        )
        con.execute(
            "insert into cdp_state.segment_exports values (?, ?, now()::timestamp, ?, ?, ?)",
            [export_id, segment_id, *counts],
        )
        con.execute("commit")
    except duckdb.Error:
        con.execute("rollback")
        raise
    return export_id
