-- Connected components of the identity graph: every node with its component's
-- root (its oldest member, the smallest node id: int_identity_labels) and size.
-- Components with more identifiers than the var identity_component_cap are not
-- merged: their nodes stand alone.
--
-- Incremental: a build writes only the nodes it resolved again
-- (int_identity_seeds: the components a change touched) and a tombstone
-- (component_size 0, no root) for each node that left the graph, so later
-- models see what left. Rows carry when they were written (_written_at): later
-- models redo what was written since they last ran, so a build killed between
-- them loses nothing. The graph's models are built together (node ids hold
-- within one build: labels of another build join nothing).

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['namespace', 'identifier'],
    on_schema_change='fail',
) }}

with

nodes as (
    select * from {{ ref('int_identity_nodes') }}
),

labels as (
    select * from {{ ref('int_identity_labels') }}
),

gone as (
    select
        seeds.gone_namespace as namespace,
        seeds.gone_identifier as identifier
    from {{ ref('int_identity_seeds') }} as seeds
    where
        seeds.node_id is null
        and seeds._invocation_id = (select max(nodes._invocation_id) from nodes)
),

resolved as (
    select
        nodes.namespace,
        nodes.identifier,
        nodes.first_landed,
        nodes.is_record,
        nodes.neighbours_hash,
        root.namespace as root_namespace,
        root.identifier as root_identifier,
        labels.component_size
    from labels
    inner join nodes
        on
            labels.node_id = nodes.node_id
            and labels._invocation_id = nodes._invocation_id
    inner join nodes as root
        on
            labels.label = root.node_id
            and labels._invocation_id = root._invocation_id
),

final as (
    select
        *,
        component_size > {{ var('identity_component_cap') }} as is_over_cap,
        {{ build_started_at() }} as _written_at
    from resolved
    union all
    select
        namespace,
        identifier,
        null as first_landed,
        null as is_record,
        null as neighbours_hash,
        null as root_namespace,
        null as root_identifier,
        0 as component_size,
        false as is_over_cap,
        {{ build_started_at() }} as _written_at
    from gone
)

select * from final
