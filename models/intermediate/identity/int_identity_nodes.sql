-- Every node of the identity graph: records, and what they link to that is no
-- record (emails, identifiers of the customer-specific namespaces), with where
-- each was first landed, a hash of its neighbours (to see which nodes a build
-- touched) and a node_id for this build: its rank by first landing (on a tie a
-- record before its email: ids outlive addresses). Links refused are no edges.

{{ config(materialized='table') }}

with

records as (
    select * from {{ ref('int_identity_records') }}
),

links as (
    select * from {{ ref('int_identity_links') }}
    where refused_because is null
),

-- a node that is no record is first landed with its first record
identifiers as (
    select
        namespace,
        identifier,
        first_landed,
        true as is_record
    from records
    union all
    select
        links.linked_namespace as namespace,
        links.linked_identifier as identifier,
        min(records.first_landed) as first_landed,
        false as is_record
    from records
    inner join links
        on
            records.namespace = links.namespace
            and records.identifier = links.identifier
    where
        links.linked_namespace not in (
            select record_namespaces.namespace from records as record_namespaces
        )
    group by links.linked_namespace, links.linked_identifier
),

neighbours as (
    select
        namespace,
        identifier,
        bit_xor(hash(linked_namespace, linked_identifier)) as neighbours_hash
    from ({{ links_both_ways('links') }})
    group by namespace, identifier
),

final as (
    select
        identifiers.namespace,
        identifiers.identifier,
        identifiers.first_landed,
        identifiers.is_record,
        coalesce(neighbours.neighbours_hash, 0) as neighbours_hash,
        row_number() over (
            order by
                identifiers.first_landed,
                not identifiers.is_record,
                identifiers.namespace,
                identifiers.identifier
        ) as node_id,
        -- node ids hold within this build only: later models join on both
        '{{ invocation_id }}' as _invocation_id
    from identifiers
    left join neighbours
        on
            identifiers.namespace = neighbours.namespace
            and identifiers.identifier = neighbours.identifier
)

select * from final
