"""`cdp status`: what was landed, what was rejected and why, read from the warehouse."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass
class Section:
    key: str   # its name in `cdp status --json`
    title: str
    columns: list[str]
    rows: list[tuple]
    empty: str

    def records(self) -> list[dict[str, object]]:
        """The rows keyed by their columns in snake case (`files landed`: files_landed)."""
        names = [column.lower().replace(" ", "_") for column in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()[0]
    return found > 0


def sections(con: duckdb.DuckDBPyConnection) -> list[Section]:
    result: list[Section] = []
    if not relation_exists(con, "raw", "_loads"):
        return [Section("loads", "Loads", [], [], "nothing landed yet: run `cdp land <root>`")]
    result.append(Section(
        "loads", "Loads per entity",
        ["source", "entity", "files landed", "rows landed", "lines rejected",
         "files refused", "last landed UTC"],
        con.execute("""
            select source, entity,
                count(*) filter (where status = 'landed'),
                coalesce(sum(rows_landed), 0),
                coalesce(sum(lines_rejected), 0),
                count(*) filter (where status in ('rejected', 'unreadable')),
                strftime(max(finished_at) filter (where status = 'landed'), '%Y-%m-%d %H:%M')
            from raw._loads group by all order by all
        """).fetchall(),
        "no loads",
    ))
    result.append(Section(
        "files_not_landed", "Files not landed (latest 20)",
        ["load", "status", "message"],
        con.execute("""
            select load_id, status, message from raw._loads
            where status not in ('landed')
            order by load_id desc limit 20
        """).fetchall(),
        "none",
    ))
    result.append(Section(
        "rejected_lines", "Rejected lines (raw._rejected_lines)",
        ["source", "entity", "reason", "lines"],
        con.execute("""
            select source, entity, reason, count(*) from raw._rejected_lines
            group by all order by all
        """).fetchall(),
        "none",
    ))
    if relation_exists(con, "ops", "rejected_records"):
        result.append(Section(
            "rejected_records", "Records staging rejected (ops.rejected_records)",
            ["source", "entity", "reason", "records"],
            con.execute("""
                select source_name, entity_name, reason, count(*) from ops.rejected_records
                group by all order by all
            """).fetchall(),
            "none",
        ))
    else:
        result.append(Section(
            "rejected_records", "Records staging rejected", [], [], "not built yet: run `cdp build`"
        ))
    if relation_exists(con, "ops", "watermark_audit"):
        result.append(Section(
            "import_type_runs", "Insight import types, last run (ops.watermark_audit)",
            ["import type", "run (UTC)", "watermark before", "watermark after",
             "lookback h", "rows read", "late rows caught", "rows written"],
            con.execute("""
                select import_type, strftime(run_started_at, '%Y-%m-%d %H:%M'),
                    strftime(watermark_before, '%Y-%m-%d %H:%M:%S'),
                    strftime(watermark_after, '%Y-%m-%d %H:%M:%S'),
                    lookback_hours, rows_read, late_rows_caught, rows_written
                from ops.watermark_audit
                qualify row_number() over (
                    partition by import_type order by run_started_at desc
                ) = 1
                order by import_type
            """).fetchall(),
            "none",
        ))
    if relation_exists(con, "profile", "identities"):
        result.append(Section(
            "identity_health", "Identity health (profile)",
            ["measure", "count"],
            con.execute("""
                select 'identifiers', count(*) from profile.identities
                union all
                select 'contacts', count(*) from profile.contacts
                union all
                select 'identifiers in components over the cap', count(*)
                from profile.identities where is_over_cap
                union all
                select 'contacts merged into older ones', count(*) from profile.identity_merges
                union all
                select 'refused links: ' || reason, count(*) from profile.identity_conflicts
                group by reason
            """).fetchall(),
            "none",
        ))
    if relation_exists(con, "campaign", "broad_log"):
        result.append(Section(
            "unknown_campaign_statuses",
            "Campaign statuses not in seeds/campaign_delivery_statuses.csv (kept, no event)",
            ["status", "messages", "latest event (UTC)"],
            con.execute("""
                select status, count(*), strftime(max(event_at), '%Y-%m-%d %H:%M')
                from campaign.broad_log where is_unknown_status
                group by status order by count(*) desc, status
            """).fetchall(),
            "none",
        ))
    if relation_exists(con, "cdp_state", "exports"):
        result.append(Section(
            "last_exports", "Last exports per destination (cdp_state.exports)",
            ["destination", "kind", "subject", "last done (UTC)", "rows", "pending"],
            con.execute("""
                select destination, kind, subject,
                    strftime(max(published_at), '%Y-%m-%d %H:%M:%S'),
                    arg_max(rows, published_at) filter (where status = 'done'),
                    count(*) filter (where status = 'pending')
                from cdp_state.exports group by all order by all
            """).fetchall(),
            "nothing exported yet",
        ))
    if relation_exists(con, "cdp_state", "delete_requests"):
        result.append(Section(
            "delete_requests", "Insight delete requests (cdp_state.delete_requests)",
            ["API", "requests", "subjects", "last request id", "last status", "last (UTC)"],
            con.execute("""
                select api, count(*), sum(subjects), arg_max(request_id, submitted_at),
                    arg_max(status, submitted_at),
                    strftime(max(submitted_at), '%Y-%m-%d %H:%M:%S')
                from cdp_state.delete_requests group by api order by api
            """).fetchall(),
            "none submitted yet",
        ))
    return result
