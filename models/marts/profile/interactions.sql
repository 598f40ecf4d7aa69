-- Every interaction of every Insight import type, keyed by contact_key.

{%- set import_types = [
    ('crm_purchases', 'crm_id'),
    ('support_tickets', 'support_id'),
    ('campaign_email_events', 'campaign_id'),
] %}

with

identities as (
    select * from {{ ref('identities') }}
),

interactions as (
    {% for import_type, namespace in import_types -%}
    select
        '{{ import_type }}' as import_type,
        '{{ insight_import_type(import_type).data_source }}' as data_source,
        "UniqueId" as unique_id,
        '{{ namespace }}' as namespace,
        "Predicate" as predicate,
        "Object" as object_label,
        "Timestamp" as interaction_at,
        _source_key as source_key
    from {{ ref(import_type) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        identities.contact_key,
        interactions.*
    from interactions
    left join identities
        on
            interactions.namespace = identities.namespace
            and interactions.unique_id = identities.identifier
)

select * from final
