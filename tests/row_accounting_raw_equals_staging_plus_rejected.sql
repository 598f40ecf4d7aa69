-- Every landed row is in its staging view or in ops.rejected_records, never
-- both, never neither. Returns the entities whose counts do not add up, over
-- the loads not tested yet (var tests_since_load_id).

with

counts as (
    {% for entity in staging_entities() -%}
    select
        '{{ entity.source }}' as source_name,
        '{{ entity.table }}' as entity_name,
        (
            select count(*) from {{ source(entity.source, entity.table) }}
            where _load_id > {{ var('tests_since_load_id') }}
        ) as raw_rows,
        (
            select count(*) from {{ ref(entity.model) }}
            where load_id > {{ var('tests_since_load_id') }}
        ) as staging_rows,
        (
            select count(*) from {{ ref('rejected_records') }}
            where
                source_name = '{{ entity.source }}'
                and entity_name = '{{ entity.table }}'
                and load_id > {{ var('tests_since_load_id') }}
        ) as rejected_rows
    {% if not loop.last -%} union all {%- endif %}
    {% endfor %}
),

unbalanced as (
    select * from counts
    where raw_rows <> staging_rows + rejected_rows
)

select * from unbalanced
