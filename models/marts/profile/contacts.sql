-- One row per person: the golden record across CRM, Support and Campaign by the
-- merge policy (var profile_merge_policy), with the ids per source.
--
-- Incremental: a build computes again the contacts a change reached: keys an
-- identifier moved from or to (identity_key_history since the last write here),
-- keys of records changed since the last build (_hwm_load_id), and contacts
-- holding an email of a CRM contact deleted since. A key left without records
-- is written empty and deleted by the post-hook.

-- depends_on: {{ ref('identity_key_history') }}

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='contact_key',
    on_schema_change='fail',
    post_hook="delete from {{ this }} where last_seen_at is null",
) }}

with

identities as (
    select * from {{ ref('identities') }}
),

records as (
    select * from {{ ref('int_identity_records') }}
),

deletions as (
    select * from {{ ref('crm_contact_deletions') }}
),

deleted_crm_contacts as (
    select crm.*
    from {{ ref('int_crm_contacts_current') }} as crm
    inner join deletions on crm.contact_id = deletions."UniqueId"
    where crm.is_deleted and crm.email is not null
),

deleted_crm_emails as (
    select distinct email from deleted_crm_contacts
),

{% if is_incremental() -%}
state as (
    {{ incremental_state(watermark=none) }}
),

key_changes as (
    select * from {{ ref('identity_key_history') }}
    where {{ written_since_last_write('assigned_at') }}
),

affected_keys as (
    select identities.contact_key
    from records
    inner join identities
        on
            records.namespace = identities.namespace
            and records.identifier = identities.identifier
    where {{ landed_since_last_run('records._hwm_load_id') }}
    union
    select previous_contact_key from key_changes
    union
    select contact_key from key_changes
    union
    select held.contact_key
    from {{ this }} as held
    inner join deleted_crm_contacts as deleted on held.email = deleted.email
    where {{ landed_since_last_run('deleted._hwm_load_id') }}
),
{%- else -%}
affected_keys as (
    select distinct identities.contact_key from identities
),
{%- endif %}

member_records as (
    select
        identities.contact_key,
        records.*
    from identities
    inner join records
        on
            identities.namespace = records.namespace
            and identities.identifier = records.identifier
    where identities.contact_key in (
        select affected_keys.contact_key from affected_keys
    )
),

golden as (
    select
        contact_key,
        {{ golden_value('email') }} as email,
        {{ golden_value('first_name') }} as first_name,
        {{ golden_value('last_name') }} as last_name,
        {{ golden_value('address') }} as address,
        {{ golden_value('phone') }} as phone,
        list_sort(list(identifier) filter (where namespace = 'crm_id'))
            as crm_contact_ids,
        list_sort(list(identifier) filter (where namespace = 'support_id'))
            as support_contact_ids,
        list_sort(list(identifier) filter (where namespace = 'campaign_id'))
            as campaign_recipient_ids,
        min(last_modified_at) as first_seen_at,
        max(last_modified_at) as last_seen_at
    from member_records
    group by contact_key
),

final as (
    select
        affected_keys.contact_key,
        golden.email,
        golden.first_name,
        golden.last_name,
        golden.address,
        golden.phone,
        golden.crm_contact_ids,
        golden.support_contact_ids,
        golden.campaign_recipient_ids,
        golden.first_seen_at,
        golden.last_seen_at,
        golden.email in (
            select deleted_crm_emails.email from deleted_crm_emails
        ) as is_deleted,
        (select max(records._hwm_load_id) from records) as _hwm_load_id,
        {{ build_started_at() }} as _written_at
    from affected_keys
    left join golden on affected_keys.contact_key = golden.contact_key
    where affected_keys.contact_key is not null
)

select * from final
