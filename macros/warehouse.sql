{% macro warehouse_migrations() -%}
    {#- Ordered; never edit one that shipped, add the next. -#}
    {{- return([
        {'version': 1, 'sql': warehouse_migration_1(),
         'description': 'landing manifest, rejected lines, export state, run manifest'},
        {'version': 2, 'sql': warehouse_migration_2(),
         'description': 'columns added before the warehouse had a schema version'},
    ]) -}}
{%- endmacro %}

{% macro warehouse_migration_1() -%}
create schema if not exists raw;
create sequence if not exists raw._load_id_seq start 1;
create table if not exists raw._loads (
    load_id bigint primary key,
    source varchar,
    entity varchar,
    file_path varchar,
    file_hash varchar,
    file_size bigint,
    file_format varchar,
    status varchar,
    rows_landed bigint,
    lines_rejected bigint,
    message varchar,
    started_at timestamp,
    finished_at timestamp
);
create table if not exists raw._rejected_lines (
    load_id bigint,
    source varchar,
    entity varchar,
    file_path varchar,
    line_number bigint,
    reason varchar,
    raw_text varchar
);
create schema if not exists cdp_state;
create table if not exists cdp_state.schema_version (
    version integer primary key,
    description varchar,
    applied_at timestamp
);
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
create table if not exists cdp_state.passed_checks (
    fingerprint varchar,
    checked_at timestamp,
    suites integer,
    expectations integer,
    besides_membership varchar
);
create table if not exists cdp_state.checked_suites (
    suite varchar,
    definition varchar,
    written_through timestamp,
    checked_at timestamp
);
create table if not exists cdp_state.complete_as_of (
    destination varchar,
    subject varchar,
    as_of timestamp
);
create table if not exists cdp_state.dbt_invocations (
    invocation_id varchar primary key,
    command varchar,
    scope varchar,
    started_at timestamp,
    finished_at timestamp,
    passed boolean,
    through_load_id bigint,
    tests_since_load_id bigint,
    project_fingerprint varchar,
    export_state varchar
);
{%- endmacro %}

{% macro warehouse_migration_2() -%}
alter table raw._loads add column if not exists file_stat varchar;
alter table cdp_state.exports add column if not exists through_load_id bigint;
alter table cdp_state.segment_export_members add column if not exists destination varchar;
alter table cdp_state.segment_export_members add column if not exists email varchar;
alter table cdp_state.segment_export_members add column if not exists segment_name varchar;
alter table cdp_state.dbt_invocations add column if not exists vars varchar;
drop table if exists cdp_state.tested_loads;
{%- endmacro %}

{% macro raw_table_ddl(table) -%}
create table if not exists raw.{{ table.name }} (
    {%- for column in table.columns %}
    "{{ column.name | replace('"', '""') }}" {{ column.data_type or 'varchar' }}
    {{- ',' if not loop.last }}
    {%- endfor %}
);
{%- endmacro %}

{% macro record_migration(migration) -%}
insert into cdp_state.schema_version
values (
    {{ migration.version }},
    '{{ migration.description | replace("'", "''") }}',
    now()::timestamp
);
{%- endmacro %}

{% macro warehouse_query(sql) -%}
    {#- Outside a transaction: dbt would roll one back after the hooks. -#}
    {%- call statement('warehouse_query', fetch_result=True, auto_begin=False) -%}
        {{ sql }}
    {%- endcall -%}
    {{- return(load_result('warehouse_query').table.columns[0].values() | list) -}}
{%- endmacro %}

{% macro create_warehouse() -%}
    {%- if execute -%}
        {%- set tables = warehouse_query(
            "select schema_name || '.' || table_name from duckdb_tables()"
            ~ " where schema_name in ('raw', 'cdp_state')"
        ) -%}
        {%- set applied = 0 -%}
        {%- if 'cdp_state.schema_version' in tables -%}
            {%- set applied = warehouse_query(
                'select coalesce(max(version), 0) from cdp_state.schema_version'
            )[0] -%}
        {%- endif -%}
        {%- set migrations = warehouse_migrations() -%}
        {%- if applied > migrations[-1].version -%}
            {{ exceptions.raise_compiler_error(
                'the warehouse is at schema version ' ~ applied ~ ', newer than this '
                ~ "project's " ~ migrations[-1].version ~ ': upgrade cdp'
            ) }}
        {%- endif -%}
        {%- for migration in migrations if migration.version > applied %}
{{ migration.sql }}
{{ record_migration(migration) }}
        {%- endfor -%}
        {%- for source in graph.sources.values() | sort(attribute='identifier')
                if source.schema == 'raw' and '_load_id' in source.columns
                and 'raw.' ~ source.identifier not in tables %}
{{ raw_table_ddl({'name': source.identifier,
                  'columns': source.columns.values() | list}) }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
