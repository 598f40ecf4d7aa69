{#-
    Incremental building blocks shared by the Insight import types.

    Two clocks decide what is incoming. The business timestamp (`Timestamp`, the
    watermark) says how recent a record is; the load id says when it arrived, and
    only grows. A model reads every record landed after the highest load id it has
    already read (`_hwm_load_id`): records newer than its watermark minus the
    lookback, and late arrivals of any age. Nothing landed earlier is read again, so a
    run costs in proportion to what arrived. `ops.watermark_audit` counts, per run,
    the records read and the late ones among them (older than watermark - lookback).

    Versions of a record are ordered by version time, then load id, then position in
    the file; the latest wins, whatever order they arrived in. A model writes a row
    only when it changes the table, so a run with nothing new writes nothing.
-#}

{% macro incremental_state(watermark='"Timestamp"') -%}
    {%- if is_incremental() -%}
        select
            max(_hwm_load_id) as hwm_load_id,
            max({{ watermark or 'cast(null as timestamp)' }}) as watermark
        from {{ this }}
    {%- else -%}
        select
            cast(null as bigint) as hwm_load_id,
            cast(null as timestamp) as watermark
    {%- endif -%}
{%- endmacro %}

{% macro landed_since_last_run(load_id='load_id', state='state') -%}
    {{ load_id }} > coalesce((select {{ state }}.hwm_load_id from {{ state }}), -1)
{%- endmacro %}

{% macro is_latest_version(key, version_at) -%}
    row_number() over (
        partition by {{ key }}
        order by {{ version_at }} desc, load_id desc, source_row_number desc
    ) = 1
{%- endmacro %}

{% macro landing_position(load_id='load_id', row_number='source_row_number') -%}
    {{ load_id }} * {{ var('landing_position_scale') }} + {{ row_number }}
{%- endmacro %}

{% macro is_later_version(new, old) -%}
    (
        {{ new }}._version_at > {{ old }}._version_at
        or (
            {{ new }}._version_at = {{ old }}._version_at
            and (
                {{ new }}._load_id > {{ old }}._load_id
                or (
                    {{ new }}._load_id = {{ old }}._load_id
                    and {{ new }}._row_number > {{ old }}._row_number
                )
            )
        )
    )
{%- endmacro %}

{% macro version_columns(source_key, version_at) -%}
    {{ source_key }} as _source_key,
    {{ version_at }} as _version_at,
    load_id as _load_id,
    source_row_number as _row_number
{%- endmacro %}

{% macro build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{% macro written_since_last_write(written_at, clock='_written_at') -%}
    {{ written_at }} > (
        select coalesce(
            max(this_model.{{ clock }}), '-infinity'::timestamp
        )
        from {{ this }} as this_model
    )
{%- endmacro %}

{% macro run_columns(hwm_load_id) -%}
    cast({{ hwm_load_id }} as bigint) as _hwm_load_id,
    '{{ invocation_id }}' as _invocation_id,
    {{ build_started_at() }} as _written_at
{%- endmacro %}

{% macro changed_rows(new_rows, compared_columns) -%}
    select incoming.* from {{ new_rows }} as incoming
    {%- if is_incremental() %}
        left join {{ this }} as held on incoming._source_key = held._source_key
    where
        held._source_key is null
        or (
            not {{ is_later_version('held', 'incoming') }}
            and (
                incoming._version_at <> held._version_at
                {%- for column in compared_columns %}
                or incoming.{{ column }} is distinct from held.{{ column }}
                {%- endfor %}
            )
        )
    {%- endif %}
{%- endmacro %}

{% macro insight_column_names(import_type) -%}
    {%- set names = [] -%}
    {%- for column in insight_header(import_type) -%}
        {%- do names.append('"' ~ column ~ '"') -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro current_versions(staging_model, key, version_at) -%}
with

state as (
    {{ incremental_state(watermark=none) }}
),

records_read as (
    select * from {{ ref(staging_model) }}
    where {{ landed_since_last_run() }}
),

latest as (
    select
        *,
        {{ version_columns(key, version_at) }},
        min({{ landing_position() }})
            over (partition by {{ key }}) as first_landed_in_read
    from records_read
    qualify {{ is_latest_version(key, version_at) }}
),

changed as (
    select
        incoming.* exclude (first_landed_in_read),
        {%- if is_incremental() %}
        coalesce(held._first_landed, incoming.first_landed_in_read)
            as _first_landed
    from latest as incoming
    left join {{ this }} as held on incoming._source_key = held._source_key
    where
        held._source_key is null
        or {{ is_later_version('incoming', 'held') }}
        {%- else %}
        incoming.first_landed_in_read as _first_landed
    from latest as incoming
        {%- endif %}
),

final as (
    select
        *,
        {{ run_columns('(select max(records_read.load_id) from records_read)') }}
    from changed
)

select * from final
{%- endmacro %}

{% macro keep_first_landed(rows) -%}
    {%- if is_incremental() %}
    select
        incoming.* replace (
            coalesce(held._first_landed, incoming._first_landed) as _first_landed
        )
    from {{ rows }} as incoming
    left join {{ this }} as held on incoming._source_key = held._source_key
    {%- else %}
    select * from {{ rows }}
    {%- endif %}
{%- endmacro %}
