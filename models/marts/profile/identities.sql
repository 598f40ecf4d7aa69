-- Every identifier of the identity graph with its contact_key. A contact_key is
-- derived from the oldest identifier of its component (the one first landed),
-- so it does not change when unrelated data arrives, nor on a full refresh of
-- the same landed data; when two components merge, the older key survives.
--
-- Incremental: a build writes again the identifiers whose component rows were
-- written since it last wrote (resolved again, or left the graph: written
-- empty and deleted by the post-hook) and those whose record changed since
-- (_hwm_load_id). A table built before it was incremental (without these
-- clocks) is written whole once, the new columns appended.

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['namespace', 'identifier'],
    on_schema_change='append_new_columns',
    post_hook="delete from {{ this }} where component_size = 0",
) }}

{%- set follows_changes = is_incremental()
    and '_written_at' in column_names(this) %}

with

components as (
    select * from {{ ref('int_identity_components') }}
),

records as (
    select * from {{ ref('int_identity_records') }}
),

{% if follows_changes -%}
state as (
    {{ incremental_state(watermark=none) }}
),

changed as (
    select * from components
    where {{ written_since_last_write('components._written_at') }}
    union
    select components.*
    from components
    inner join records
        on
            components.namespace = records.namespace
            and components.identifier = records.identifier
    where
        components.component_size > 0
        and {{ landed_since_last_run('records._hwm_load_id') }}
),
{%- else -%}
-- nodes that left the graph too: a table written whole over an older one
-- deletes them (post-hook)
changed as (
    select * from components
),
{%- endif %}

final as (
    select
        changed.namespace,
        changed.identifier,
        -- a node of a component over the cap stands alone
        case
            when changed.is_over_cap
                then {{ contact_key(
                    'changed.namespace', 'changed.identifier'
                ) }}
            else {{ contact_key(
                'changed.root_namespace', 'changed.root_identifier'
            ) }}
        end as contact_key,
        records.source_name,
        changed.first_landed,
        records.last_modified_at as last_seen_at,
        changed.component_size,
        changed.is_over_cap,
        (select max(all_records._hwm_load_id) from records as all_records)
            as _hwm_load_id,
        {{ build_started_at() }} as _written_at
    from changed
    left join records
        on
            changed.namespace = records.namespace
            and changed.identifier = records.identifier
)

select * from final
