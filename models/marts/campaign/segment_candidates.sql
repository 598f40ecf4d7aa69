-- Every Campaign recipient that a segment selects, before suppression. Campaign
-- is the source of truth: a segment member must be a recipient Campaign already
-- has, matched through contact_key; a contact without one is never a member.
-- Segments are email segments: a blacklisted recipient, a quarantined or
-- denylisted address and an email opt-out (profile.preferences) suppress.

{{ config(materialized='table') }}

with

recipients as (
    select * from {{ ref('recipient_contacts') }}
),

suppressing_addresses as (
    select * from {{ ref('non_deliverable_addresses') }}
    where is_suppressing
),

email_opt_outs as (
    select * from {{ ref('preferences') }}
    where channel = 'email' and service is null and not is_subscribed
),

campaign_recipients as (
    select
        recipients.recipient_id,
        recipients.email,
        recipients.contact_key,
        case
            when recipients.is_blacklisted then 'blacklisted'
            when suppressing_addresses.address is not null
                then lower(suppressing_addresses.status)
            when email_opt_outs.contact_key is not null then 'opted_out'
        end as suppressed_because
    from recipients
    left join suppressing_addresses
        on recipients.email = suppressing_addresses.address
    left join email_opt_outs
        on recipients.contact_key = email_opt_outs.contact_key
),

selected as (
    {% for segment in var('campaign_segments') -%}
    {%- set meta = segment_meta(segment) -%}
    select
        '{{ meta.id }}' as segment_id,
        '{{ meta.name | replace("'", "''") }}' as segment_name,
        contact_key
    from {{ ref(segment) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        selected.segment_id,
        selected.segment_name,
        campaign_recipients.recipient_id,
        campaign_recipients.contact_key,
        campaign_recipients.email,
        campaign_recipients.suppressed_because
    from selected
    inner join campaign_recipients
        on selected.contact_key = campaign_recipients.contact_key
)

select * from final
