-- One row per Insight import type and dbt run: the watermark before and after,
-- the lookback, the records read, the late records caught among them (older
-- than the watermark minus the lookback, read all the same because they
-- arrived since the last run) and the rows written. "Before" is what the
-- previous run recorded.

{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    contract={'enforced': true},
) }}

{%- set import_types = var('insight_import_types').keys() | list %}
{#- What each import type reads: (import type, staging model, watermark). -#}
{%- set inputs = [] %}
{%- for import_type in import_types %}
{%- for relation, column in insight_import_type(import_type).reads.items() %}
{%- set watermark = column or 'cast(null as timestamp)' %}
{%- do inputs.append((import_type, relation, watermark)) %}
{%- endfor %}
{%- endfor %}

with

previous as (
    {% if is_incremental() -%}
    select
        held.import_type,
        held.watermark_after as watermark,
        held.hwm_load_id_after as hwm_load_id
    from {{ this }} as held
    qualify
        row_number() over (
            partition by held.import_type order by held.run_started_at desc
        ) = 1
    {%- else -%}
    select
        cast(null as varchar) as import_type,
        cast(null as timestamp) as watermark,
        cast(null as bigint) as hwm_load_id
    where false
    {%- endif %}
),

records_read as (
    {% for import_type, relation, watermark_column in inputs -%}
    select
        '{{ import_type }}' as import_type,
        {{ watermark_column }} as watermark_value
    from {{ ref(relation) }}
    where
        load_id > coalesce((
            select previous.hwm_load_id from previous
            where previous.import_type = '{{ import_type }}'
        ), -1)
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

states_after as (
    {% for import_type in import_types -%}
    select
        '{{ import_type }}' as import_type,
        {{ insight_import_type(import_type).lookback_hours }} as lookback_hours,
        max("Timestamp") as watermark_after,
        max(_hwm_load_id) as hwm_load_id_after,
        count(*) filter (
            where _invocation_id = '{{ invocation_id }}'
        ) as rows_written
    from {{ ref(import_type) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

counted as (
    select
        states_after.import_type,
        count(records_read.import_type) as rows_read,
        count(*) filter (
            where records_read.watermark_value < previous.watermark
            - to_hours(states_after.lookback_hours)
        ) as late_rows_caught
    from states_after
    left join previous on states_after.import_type = previous.import_type
    left join records_read
        on states_after.import_type = records_read.import_type
    group by states_after.import_type
),

final as (
    select
        states_after.import_type,
        '{{ invocation_id }}' as invocation_id,
        {{ build_started_at() }} as run_started_at,
        {{ 'false' if is_incremental() else 'true' }} as is_full_refresh,
        previous.watermark as watermark_before,
        states_after.watermark_after,
        states_after.lookback_hours,
        previous.hwm_load_id as hwm_load_id_before,
        coalesce(
            states_after.hwm_load_id_after, previous.hwm_load_id
        ) as hwm_load_id_after,
        counted.rows_read,
        counted.late_rows_caught,
        states_after.rows_written
    from states_after
    left join previous on states_after.import_type = previous.import_type
    inner join counted on states_after.import_type = counted.import_type
)

select * from final
