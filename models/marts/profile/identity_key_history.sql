-- Every contact_key an identifier has had: a row when an identifier first gets
-- a key and whenever its key changes (two components merged, or one split).
-- Append-only, so it remembers across runs what identities alone cannot.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
) }}

with

identities as (
    select * from {{ ref('identities') }}
),

{% if is_incremental() -%}
previous_keys as (
    select
        namespace,
        identifier,
        arg_max(contact_key, assigned_at) as contact_key
    from {{ this }}
    group by namespace, identifier
),
{%- else -%}
previous_keys as (
    select
        cast(null as varchar) as namespace,
        cast(null as varchar) as identifier,
        cast(null as varchar) as contact_key
    where false
),
{%- endif %}

changed as (
    select
        identities.namespace,
        identities.identifier,
        previous_keys.contact_key as previous_contact_key,
        identities.contact_key
    from identities
    left join previous_keys
        on
            identities.namespace = previous_keys.namespace
            and identities.identifier = previous_keys.identifier
    where previous_keys.contact_key is distinct from identities.contact_key
),

final as (
    select
        namespace,
        identifier,
        previous_contact_key,
        contact_key,
        cast(
            '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp
        ) as assigned_at,
        '{{ invocation_id }}' as invocation_id
    from changed
)

select * from final
