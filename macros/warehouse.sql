{% macro warehouse_ddl(raw_tables) -%}
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
alter table raw._loads add column if not exists file_stat varchar;
create table if not exists raw._rejected_lines (
    load_id bigint,
    source varchar,
    entity varchar,
    file_path varchar,
    line_number bigint,
    reason varchar,
    raw_text varchar
);
{% for table in raw_tables -%}
create table if not exists raw.{{ table.name }} (
    {%- for column in table.columns %}
    "{{ column.name | replace('"', '""') }}" {{ column.data_type or 'varchar' }}
    {{- ',' if not loop.last }}
    {%- endfor %}
);
{% endfor -%}
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
alter table cdp_state.exports add column if not exists through_load_id bigint;
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
alter table cdp_state.segment_export_members add column if not exists destination varchar;
alter table cdp_state.segment_export_members add column if not exists email varchar;
alter table cdp_state.segment_export_members add column if not exists segment_name varchar;
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
drop table if exists cdp_state.tested_loads;   -- superseded by dbt_invocations
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
alter table cdp_state.dbt_invocations add column if not exists vars varchar;
{%- endmacro %}

{% macro create_warehouse() -%}
    {%- if execute -%}
        {%- set raw_tables = [] -%}
        {%- for source in graph.sources.values() | sort(attribute='identifier')
                if source.schema == 'raw' and '_load_id' in source.columns -%}
            {%- do raw_tables.append({'name': source.identifier,
                                      'columns': source.columns.values() | list}) -%}
        {%- endfor -%}
        {{ warehouse_ddl(raw_tables) }}
    {%- endif -%}
{%- endmacro %}
