-- Every identifier of the identity graph with its contact_key. A contact_key is
-- derived from the oldest identifier of its component (the one first landed),
-- so it does not change when unrelated data arrives, nor on a full refresh of
-- the same landed data; when two components merge, the older key survives.

with

components as (
    select * from {{ ref('int_identity_components') }}
),

records as (
    select * from {{ ref('int_identity_records') }}
),

roots as (
    select
        node_rank,
        {{ contact_key('namespace', 'identifier') }} as contact_key
    from components
),

final as (
    select
        components.namespace,
        components.identifier,
        roots.contact_key,
        records.source_name,
        components.first_landed,
        records.last_modified_at as last_seen_at,
        components.component_size,
        components.is_over_cap
    from components
    inner join roots on components.component_rank = roots.node_rank
    left join records
        on
            components.namespace = records.namespace
            and components.identifier = records.identifier
)

select * from final
