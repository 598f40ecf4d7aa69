-- Connected components of the identity graph over the links not refused, by
-- label propagation (the smallest node rank reaches every node of a
-- component). Nodes are ranked by where they were first landed, so a
-- component's root is its oldest member. Components with more identifiers than
-- the var identity_component_cap are not merged: their nodes stand alone.
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

records as (
    select * from {{ ref('int_identity_records') }}
),

links as (
    select * from {{ ref('int_identity_links') }}
    where refused_because is null
),

-- Records, and what they link to that is no record: emails and identifiers of
-- the customer-specific namespaces, first landed with their first record.
identifiers as (
    select
        namespace,
        identifier,
        first_landed,
        true as is_record
    from records
    union all
    select
        links.linked_namespace,
        links.linked_identifier,
        min(records.first_landed),
        false
    from records
    inner join links
        on
            records.namespace = links.namespace
            and records.identifier = links.identifier
    where links.linked_namespace not in (select namespace from records)
    group by links.linked_namespace, links.linked_identifier
),

both_ways as (
    select namespace, identifier, linked_namespace, linked_identifier from links
    union all
    select linked_namespace, linked_identifier, namespace, identifier from links
),

nodes as (
    select
        identifiers.*,
        coalesce(neighbours.neighbours_hash, 0) as neighbours_hash
    from identifiers
    left join (
        select
            namespace,
            identifier,
            bit_xor(hash(linked_namespace, linked_identifier)) as neighbours_hash
        from both_ways
        group by namespace, identifier
    ) as neighbours
        on
            identifiers.namespace = neighbours.namespace
            and identifiers.identifier = neighbours.identifier
),

{% if is_incremental() -%}
held as (
    select * from {{ this }}
    where component_size > 0
),

touched as (
    select
        coalesce(nodes.namespace, held.namespace) as namespace,
        coalesce(nodes.identifier, held.identifier) as identifier,
        held.root_namespace,
        held.root_identifier,
        nodes.namespace is null as is_gone
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

affected as (
    select nodes.*
    from nodes
    inner join (
        select held.namespace, held.identifier
        from held
        inner join touched
            on
                held.root_namespace = touched.root_namespace
                and held.root_identifier = touched.root_identifier
        union
        select namespace, identifier from touched where not is_gone
    ) as reach
        on
            nodes.namespace = reach.namespace
            and nodes.identifier = reach.identifier
),

gone as (
    select namespace, identifier from touched where is_gone
),
{%- else -%}
affected as (
    select * from nodes
),

gone as (
    select namespace, identifier from nodes where false
),
{%- endif %}

ranked as (
    select
        *,
        -- on a tie a record ranks before its email: ids outlive addresses
        row_number() over (
            order by first_landed, not is_record, namespace, identifier
        ) as node_rank
    from affected
),

edges as (
    select
        from_node.node_rank as from_rank,
        to_node.node_rank as to_rank
    from both_ways
    inner join ranked as from_node
        on
            both_ways.namespace = from_node.namespace
            and both_ways.identifier = from_node.identifier
    inner join ranked as to_node
        on
            both_ways.linked_namespace = to_node.namespace
            and both_ways.linked_identifier = to_node.identifier
),

labels (node_rank, label) using key (node_rank) as (
    select node_rank, node_rank from ranked
    union
    select candidates.node_rank, candidates.label
    from (
        select
            edges.to_rank as node_rank,
            min(labels.label) as label
        from labels
        inner join edges on labels.node_rank = edges.from_rank
        group by edges.to_rank
    ) as candidates
    inner join recurring.labels as held_label
        on candidates.node_rank = held_label.node_rank
    where candidates.label < held_label.label
),

resolved as (
    select
        ranked.namespace,
        ranked.identifier,
        ranked.first_landed,
        ranked.is_record,
        ranked.neighbours_hash,
        root.namespace as root_namespace,
        root.identifier as root_identifier,
        count(*) over (partition by labels.label) as component_size
    from ranked
    inner join labels on ranked.node_rank = labels.node_rank
    inner join ranked as root on labels.label = root.node_rank
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
