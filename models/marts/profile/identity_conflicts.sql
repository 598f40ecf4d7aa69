-- Every link the identity graph refused, with its reason: links through a role
-- or shared mailbox, identifiers of a non-linking namespace that several
-- records share, and links inside a component over the identifier cap.

with

links as (
    select * from {{ ref('int_identity_links') }}
),

components as (
    select * from {{ ref('int_identity_components') }}
),

refused_links as (
    select
        namespace,
        identifier,
        linked_namespace,
        linked_identifier,
        refused_because as reason
    from links
    where refused_because is not null
),

over_cap as (
    select
        links.namespace,
        links.identifier,
        links.linked_namespace,
        links.linked_identifier,
        'component over cap (' || components.component_size
        || ' identifiers, cap {{ var("identity_component_cap") }})' as reason
    from links
    inner join components
        on
            links.namespace = components.namespace
            and links.identifier = components.identifier
    where links.refused_because is null and components.is_over_cap
),

final as (
    select * from refused_links
    union all
    select * from over_cap
)

select * from final
