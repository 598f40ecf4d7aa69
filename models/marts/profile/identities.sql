-- Every identifier of the identity graph with its contact_key. A contact_key is
-- derived from the oldest identifier of its component (the one first landed),
-- so it does not change when unrelated data arrives, nor on a full refresh of
-- the same landed data; when two components merge, the older key survives.

with

components as (
    select * from {{ ref('int_identity_components') }}
    where component_size > 0   -- not a node that left the graph
),

records as (
    select * from {{ ref('int_identity_records') }}
),

final as (
    select
        components.namespace,
        components.identifier,
        -- a node of a component over the cap stands alone
        case
            when components.is_over_cap
                then {{ contact_key(
                    'components.namespace', 'components.identifier'
                ) }}
            else {{ contact_key(
                'components.root_namespace', 'components.root_identifier'
            ) }}
        end as contact_key,
        records.source_name,
        components.first_landed,
        records.last_modified_at as last_seen_at,
        components.component_size,
        components.is_over_cap
    from components
    left join records
        on
            components.namespace = records.namespace
            and components.identifier = records.identifier
)

select * from final
