-- Connected components of the identity graph (int_identity_nodes and
-- int_identity_edges), by label propagation over node ids: the smallest id, the
-- oldest member, reaches every node of a component and is its root.
-- Components with more identifiers than the var identity_component_cap are not
-- merged: their nodes stand alone.
--
-- Incremental: a node is touched when it appeared, disappeared, or its first
-- landing or its neighbours changed (neighbours_hash). Only the components that
-- held a touched node, and the touched nodes, are resolved again; any link
-- leaving them is new (so its other end is touched too) or old (so both ends
-- were in one component). A full refresh resolves every node the same way.
-- Rows written by a build carry its _invocation_id: what later models redo. A
-- node that left the graph stays as a tombstone (component_size 0, no root).

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['namespace', 'identifier'],
    on_schema_change='fail',
) }}

with recursive

{% if is_incremental() -%}
held as (
    select * from {{ this }}
    where component_size > 0
),

touched as (
    select
        coalesce(nodes.namespace, held.namespace) as namespace,
        coalesce(nodes.identifier, held.identifier) as identifier,
        nodes.node_id,
        held.root_namespace,
        held.root_identifier
    from {{ ref('int_identity_nodes') }} as nodes
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

-- the nodes of every component that held a touched node, and the touched nodes
seeds as (
    select nodes.node_id
    from held
    inner join (
        select distinct
            touched.root_namespace,
            touched.root_identifier
        from touched
    ) as touched_components
        on
            held.root_namespace = touched_components.root_namespace
            and held.root_identifier = touched_components.root_identifier
    inner join {{ ref('int_identity_nodes') }} as nodes
        on
            held.namespace = nodes.namespace
            and held.identifier = nodes.identifier
    union
    select touched.node_id from touched
    where touched.node_id is not null
),

edges as (
    select edges.* from {{ ref('int_identity_edges') }} as edges
    inner join seeds on edges.from_id = seeds.node_id
),

gone as (
    select
        touched.namespace,
        touched.identifier
    from touched
    where touched.node_id is null
),
{%- else -%}
seeds as (
    select nodes.node_id from {{ ref('int_identity_nodes') }} as nodes
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

gone as (
    select
        cast(null as varchar) as namespace,
        cast(null as varchar) as identifier
    where false
),
{%- endif %}

labels (node_id, label) using key (node_id) as (
    select
        seeds.node_id,
        seeds.node_id
    from seeds
    union
    select
        candidates.node_id,
        candidates.label
    from (
        select
            edges.to_id as node_id,
            min(labels.label) as label
        from labels
        inner join edges on labels.node_id = edges.from_id
        group by edges.to_id
    ) as candidates
    inner join recurring.labels as held_label
        on candidates.node_id = held_label.node_id
    where candidates.label < held_label.label
),

sized as (
    select
        node_id,
        label,
        count(*) over (partition by label) as component_size
    from labels
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
        sized.component_size
    from sized
    inner join {{ ref('int_identity_nodes') }} as nodes
        on sized.node_id = nodes.node_id
    inner join {{ ref('int_identity_nodes') }} as root
        on sized.label = root.node_id
),

final as (
    select
        *,
        component_size > {{ var('identity_component_cap') }} as is_over_cap,
        '{{ invocation_id }}' as _invocation_id
    from resolved
    union all
    select
        namespace,
        identifier,
        null,
        null,
        null,
        null,
        null,
        0,
        false,
        '{{ invocation_id }}'
    from gone
)

select * from final
