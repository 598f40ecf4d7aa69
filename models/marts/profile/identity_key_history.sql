-- Every contact_key an identifier has had: a row when an identifier first gets
-- a key, whenever its key changes (two components merged, or one split), and
-- when it leaves the graph (contact_key null: its record was deleted).
-- Append-only, so it remembers across runs what identities alone cannot. A
-- build compares only the identifiers whose component was resolved since.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
) }}

with

-- the identifiers resolved again since the last build of this model (all, the
-- first time): a build killed after the components were written loses nothing
resolved as (
    select
        components.namespace,
        components.identifier
    from {{ ref('int_identity_components') }} as components
    {%- if is_incremental() %}
    where {{ written_since_last_write(
        'components._written_at', 'assigned_at'
    ) }}
    {%- endif %}
),

identities as (
    select * from {{ ref('identities') }}
),

{% if is_incremental() -%}
previous_keys as (
    select
        history.namespace,
        history.identifier,
        -- arg_max_null: a removal (null key) is the latest key too
        arg_max_null(history.contact_key, history.assigned_at) as contact_key
    from {{ this }} as history
    inner join resolved
        on
            history.namespace = resolved.namespace
            and history.identifier = resolved.identifier
    group by history.namespace, history.identifier
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
        resolved.namespace,
        resolved.identifier,
        previous_keys.contact_key as previous_contact_key,
        identities.contact_key
    from resolved
    left join identities
        on
            resolved.namespace = identities.namespace
            and resolved.identifier = identities.identifier
    left join previous_keys
        on
            resolved.namespace = previous_keys.namespace
            and resolved.identifier = previous_keys.identifier
    where previous_keys.contact_key is distinct from identities.contact_key
),

final as (
    select
        namespace,
        identifier,
        previous_contact_key,
        contact_key,
        {{ build_started_at() }} as assigned_at,
        '{{ invocation_id }}' as invocation_id
    from changed
)

select * from final
