"""`cdp report`: the pipeline over time, read from what the warehouse keeps per run,
per load and per export: watermark lag and late rows per Insight import type, rejected
lines per load, the identity graph's health per build, export volumes per day and
destination. `cdp status` shows the warehouse as it is now."""

from __future__ import annotations

import duckdb

from cdp.status import Section, relation_exists


def sections(con: duckdb.DuckDBPyConnection, last: int) -> list[Section]:
    """The latest `last` runs, loads and days of each."""
    return [watermark_lag(con, last), loads(con, last), identity_health(con, last),
            export_volumes(con, last)]


def kept(con: duckdb.DuckDBPyConnection, relation: str, key: str, title: str,
         columns: list[str], sql: str, last: int, missing: str) -> Section:
    """A section of the rows `sql` reads from `relation`, or `missing` if there is none."""
    schema, name = relation.split(".")
    if not relation_exists(con, schema, name):
        return Section(key, title, columns, [], missing)
    return Section(key, f"{title}, last {last} ({relation})", columns,
                   con.execute(sql, [last]).fetchall(), "none yet")


NOT_BUILT = "not built yet: run `cdp build`"


def watermark_lag(con: duckdb.DuckDBPyConnection, last: int) -> Section:
    # Lag: how far the newest business timestamp Insight has is behind the run.
    return kept(
        con, "ops.watermark_audit", "watermark_lag", "Insight import types per run",
        ["run UTC", "import type", "watermark after", "lag hours", "rows read",
         "late rows caught", "rows written"], """
            with runs as (
                select distinct run_started_at from ops.watermark_audit
                order by run_started_at desc limit ?
            )
            select strftime(run_started_at, '%Y-%m-%d %H:%M'), import_type,
                strftime(watermark_after, '%Y-%m-%d %H:%M'),
                round(date_diff('second', watermark_after, run_started_at) / 3600, 1),
                rows_read, late_rows_caught, rows_written
            from ops.watermark_audit semi join runs using (run_started_at)
            order by run_started_at desc, import_type
        """, last, NOT_BUILT)


def loads(con: duckdb.DuckDBPyConnection, last: int) -> Section:
    return kept(
        con, "raw._loads", "loads", "Rejected lines per load",
        ["load", "landed UTC", "source", "entity", "status", "rows landed", "lines rejected",
         "percent rejected"], """
            select load_id, strftime(coalesce(finished_at, started_at), '%Y-%m-%d %H:%M'),
                source, entity, status, rows_landed, lines_rejected,
                round(100 * lines_rejected / nullif(rows_landed + lines_rejected, 0), 2)
            from raw._loads order by load_id desc limit ?
        """, last, "nothing landed yet: run `cdp land <root>`")


def identity_health(con: duckdb.DuckDBPyConnection, last: int) -> Section:
    return kept(
        con, "ops.identity_health", "identity_health", "Identity health per build",
        ["run UTC", "identifiers", "contacts", "identifiers over cap", "contacts merged",
         "links refused"], """
            select strftime(run_started_at, '%Y-%m-%d %H:%M'), identifiers, contacts,
                identifiers_over_cap, contacts_merged, links_refused
            from ops.identity_health order by run_started_at desc limit ?
        """, last, NOT_BUILT)


def export_volumes(con: duckdb.DuckDBPyConnection, last: int) -> Section:
    # Each export's bytes are the sum of its files' (the manifest's included).
    return kept(
        con, "cdp_state.exports", "export_volumes", "Exports per day, destination and kind",
        ["day UTC", "destination", "kind", "exports", "rows", "MB", "pending"], """
            with exports as (
                select cast(planned_at as date) as day, destination, kind, status, rows,
                    list_sum([f.bytes for f in from_json(files, '[{"bytes": "BIGINT"}]')])
                        as bytes
                from cdp_state.exports
            ),
            days as (select distinct day from exports order by day desc limit ?)
            select strftime(day, '%Y-%m-%d'), destination, kind,
                count(*) filter (where status = 'done'),
                coalesce(sum(rows) filter (where status = 'done'), 0),
                round(coalesce(sum(bytes) filter (where status = 'done'), 0) / 1e6, 1),
                count(*) filter (where status = 'pending')
            from exports semi join days using (day)
            group by all order by 1 desc, 2, 3
        """, last, "nothing exported yet")
