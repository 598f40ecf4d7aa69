-- Every interaction of every Insight import type, keyed by contact_key.
--
-- Incremental: a build writes the import types' rows changed since it last
-- read them (their _hwm_load_id), and the interactions of identifiers whose
-- contact_key changed since it last wrote (identity_key_history).

-- depends_on: {{ ref('identity_key_history') }}

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='source_key',
    on_schema_change='fail',
) }}

{%- set import_types = [
    ('crm_purchases', 'crm_id'),
    ('support_tickets', 'support_id'),
    ('campaign_email_events', 'campaign_id'),
] %}

with

identities as (
    select * from {{ ref('identities') }}
),

{% if is_incremental() -%}
key_changes as (
    select
        namespace,
        identifier
    from {{ ref('identity_key_history') }}
    where {{ written_since_last_write('assigned_at') }}
),
{%- endif %}

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
        _source_key as source_key,
        _hwm_load_id
    from {{ ref(import_type) }}
    {%- if is_incremental() %}
    where
        _hwm_load_id > (
            select coalesce(max(held._hwm_load_id), -1) from {{ this }} as held
            where held.import_type = '{{ import_type }}'
        )
        or "UniqueId" in (
            select key_changes.identifier from key_changes
            where key_changes.namespace = '{{ namespace }}'
        )
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        identities.contact_key,
        interactions.*,
        {{ build_started_at() }} as _written_at
    from interactions
    left join identities
        on
            interactions.namespace = identities.namespace
            and interactions.unique_id = identities.identifier
)

select * from final
