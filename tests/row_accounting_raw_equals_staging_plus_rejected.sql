-- Every landed row is in its staging model or in ops.rejected_records, never
-- both, never neither: per load, the rows `cdp land` recorded in its manifest
-- (raw._loads) against those staging kept and rejected. Returns the loads
-- whose counts do not add up, of the loads not tested yet (var
-- tests_since_load_id).

with

landed as (
    select
        source as source_name,
        entity as entity_name,
        load_id,
        rows_landed
    from {{ source('landing', '_loads') }}
    where
        status = 'landed'
        and load_id > {{ var('tests_since_load_id') }}
),

staged as (
    {% for entity in staging_entities() -%}
    select
        '{{ entity.source }}' as source_name,
        '{{ entity.table }}' as entity_name,
        load_id,
        count(*) as staging_rows
    from {{ ref(entity.model) }}
    where load_id > {{ var('tests_since_load_id') }}
    group by load_id
    {% if not loop.last -%} union all {%- endif %}
    {% endfor %}
),

rejected as (
    select
        source_name,
        entity_name,
        load_id,
        count(*) as rejected_rows
    from {{ ref('rejected_records') }}
    where load_id > {{ var('tests_since_load_id') }}
    group by source_name, entity_name, load_id
),

accounts as (
    select
        source_name,
        entity_name,
        load_id,
        rows_landed,
        0 as staging_rows,
        0 as rejected_rows
    from landed
    union all
    select
        source_name,
        entity_name,
        load_id,
        0 as rows_landed,
        staging_rows,
        0 as rejected_rows
    from staged
    union all
    select
        source_name,
        entity_name,
        load_id,
        0 as rows_landed,
        0 as staging_rows,
        rejected_rows
    from rejected
),

unbalanced as (
    select
        source_name,
        entity_name,
        load_id,
        sum(rows_landed) as rows_landed,
        sum(staging_rows) as staging_rows,
        sum(rejected_rows) as rejected_rows
    from accounts
    group by source_name, entity_name, load_id
    having sum(rows_landed) <> sum(staging_rows) + sum(rejected_rows)
)

select * from unbalanced
