{#- In the staging folder because it reads the raw sources, as only staging may.
    Its rows are the records the staging views leave out, with the reason. -#}
{{ config(schema='ops', materialized='view') }}

with

checked as (
    {% for entity in staging_entities() -%}
    select
        '{{ entity.source }}' as source_name,
        '{{ entity.table }}' as entity_name,
        _load_id as load_id,
        _source_file as source_file,
        _row_number as source_row_number,
        {{ entity.key }} as record_key,
        {{ reject_reason(entity.source, entity.table) }} as reason
    from {{ source(entity.source, entity.table) }}
    {% if not loop.last -%} union all {%- endif %}
    {% endfor %}
),

rejected as (
    select * from checked
    where reason is not null
)

select * from rejected
