-- Every current Campaign recipient with the contact it belongs to: what
-- segments, profile data and lookups join on, so that nothing goes to Campaign
-- for a person Campaign does not have.

with

recipients as (
    select * from {{ ref('int_campaign_recipients_current') }}
),

identities as (
    select * from {{ ref('identities') }}
    where namespace = 'campaign_id'
),

final as (
    select
        recipients.recipient_id,
        identities.contact_key,
        recipients.email,
        recipients.is_blacklisted
    from recipients
    inner join identities on recipients.recipient_id = identities.identifier
)

select * from final
