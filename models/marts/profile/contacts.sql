-- One row per person: the golden record across CRM, Support and Campaign by the
-- merge policy (var profile_merge_policy), with the ids per source.

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

deleted_crm_emails as (
    select distinct crm.email
    from {{ ref('int_crm_contacts_current') }} as crm
    inner join deletions on crm.contact_id = deletions."UniqueId"
    where crm.is_deleted and crm.email is not null
),

member_records as (
    select
        identities.contact_key,
        records.*
    from identities
    inner join records
        on
            identities.namespace = records.namespace
            and identities.identifier = records.identifier
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
        golden.*,
        golden.email in (
            select deleted_crm_emails.email from deleted_crm_emails
        ) as is_deleted
    from golden
)

select * from final
