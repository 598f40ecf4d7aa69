-- The part of the identity graph this build resolves again, as node ids, and
-- the nodes that left it. A node is touched when it appeared, disappeared, or
-- its first landing or its neighbours changed (neighbours_hash, against the
-- components as the last build left them: source identity_state). The nodes of
-- every component that held a touched node, and the touched nodes, are seeds;
-- any link leaving them is new (so its other end is touched too) or old (so
-- both ends were in one component). With no components yet, or on a full
-- refresh, every node is a seed.

{{ config(materialized='table') }}

with

nodes as (
    select * from {{ ref('int_identity_nodes') }}
),

{% if has_identity_state() -%}
held as (
    select * from {{ source('identity_state', 'int_identity_components') }}
    where component_size > 0
),

touched as (
    select
        coalesce(nodes.namespace, held.namespace) as namespace,
        coalesce(nodes.identifier, held.identifier) as identifier,
        nodes.node_id,
        held.root_namespace,
        held.root_identifier
    from nodes
    full outer join held
        on
            nodes.namespace = held.namespace
            and nodes.identifier = held.identifier
    where
        nodes.namespace is null
        or held.namespace is null
        or nodes.first_landed <> held.first_landed
        or nodes.neighbours_hash <> held.neighbours_hash
),

touched_components as (
    select distinct
        touched.root_namespace,
        touched.root_identifier
    from touched
),

seeds as (
    select
        nodes.node_id,
        cast(null as varchar) as gone_namespace,
        cast(null as varchar) as gone_identifier
    from held
    inner join touched_components
        on
            held.root_namespace = touched_components.root_namespace
            and held.root_identifier = touched_components.root_identifier
    inner join nodes
        on
            held.namespace = nodes.namespace
            and held.identifier = nodes.identifier
    union
    select
        touched.node_id,
        case when touched.node_id is null then touched.namespace end
            as gone_namespace,
        case when touched.node_id is null then touched.identifier end
            as gone_identifier
    from touched
),
{%- else -%}
seeds as (
    select
        nodes.node_id,
        cast(null as varchar) as gone_namespace,
        cast(null as varchar) as gone_identifier
    from nodes
),
{%- endif %}

final as (
    select
        seeds.*,
        (select max(nodes._invocation_id) from nodes) as _invocation_id
    from seeds
)

select * from final
