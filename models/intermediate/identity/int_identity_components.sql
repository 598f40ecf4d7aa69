-- Connected components of the identity graph over the links not refused, by
-- label propagation (the smallest node rank reaches every node of a
-- component). A node's rank orders identifiers by where they were first landed,
-- so a component's label is its oldest member. Components with more
-- identifiers than the var identity_component_cap are not merged: their nodes
-- stand alone.

{{ config(materialized='table') }}

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

nodes as (
    select
        namespace,
        identifier,
        first_landed,
        -- on a tie a record ranks before its email: ids outlive addresses
        row_number() over (
            order by first_landed, not is_record, namespace, identifier
        ) as node_rank
    from identifiers
),

edges as (
    select
        left_node.node_rank as from_rank,
        right_node.node_rank as to_rank
    from links
    inner join nodes as left_node
        on
            links.namespace = left_node.namespace
            and links.identifier = left_node.identifier
    inner join nodes as right_node
        on
            links.linked_namespace = right_node.namespace
            and links.linked_identifier = right_node.identifier
),

both_ways as (
    select from_rank, to_rank from edges
    union all
    select to_rank, from_rank from edges
),

labels (node_rank, label) using key (node_rank) as (
    select node_rank, node_rank from nodes
    union
    select candidates.node_rank, candidates.label
    from (
        select
            both_ways.to_rank as node_rank,
            min(labels.label) as label
        from labels
        inner join both_ways on labels.node_rank = both_ways.from_rank
        group by both_ways.to_rank
    ) as candidates
    inner join recurring.labels as held
        on candidates.node_rank = held.node_rank
    where candidates.label < held.label
),

sized as (
    select
        nodes.*,
        labels.label,
        count(*) over (partition by labels.label) as component_size
    from nodes
    inner join labels on nodes.node_rank = labels.node_rank
),

final as (
    select
        namespace,
        identifier,
        first_landed,
        node_rank,
        component_size,
        component_size > {{ var('identity_component_cap') }} as is_over_cap,
        case
            when component_size > {{ var('identity_component_cap') }}
                then node_rank
            else label
        end as component_rank
    from sized
)

select * from final
