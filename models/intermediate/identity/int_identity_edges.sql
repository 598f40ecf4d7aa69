-- The links not refused as pairs of node ids, both ways: the integer graph the
-- components are propagated over (a table, so that the propagation reads a
-- narrow relation it can spill rather than joining identifiers as it goes).

{{ config(materialized='table') }}

with

links as (
    select * from {{ ref('int_identity_links') }}
    where refused_because is null
),

nodes as (
    select * from {{ ref('int_identity_nodes') }}
),

final as (
    select
        from_node.node_id as from_id,
        to_node.node_id as to_id,
        from_node._invocation_id
    from ({{ links_both_ways('links') }}) as both_ways
    inner join nodes as from_node
        on
            both_ways.namespace = from_node.namespace
            and both_ways.identifier = from_node.identifier
    inner join nodes as to_node
        on
            both_ways.linked_namespace = to_node.namespace
            and both_ways.linked_identifier = to_node.identifier
)

select * from final
