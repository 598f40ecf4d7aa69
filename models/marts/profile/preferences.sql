-- The current preference of every contact per channel (service null) and per
-- subscription service: the latest version by business timestamp among the
-- contact's Campaign recipients, wherever and whenever it landed. An email
-- opt-out (channel email, no service, not subscribed) suppresses the contact
-- from every segment.

with

preferences as (
    select * from {{ ref('stg_campaign__preferences') }}
    where is_subscribed is not null
),

identities as (
    select * from {{ ref('identities') }}
    where namespace = 'campaign_id'
),

final as (
    select
        identities.contact_key,
        preferences.channel,
        preferences.service,
        preferences.is_subscribed,
        preferences.last_modified_at as changed_at,
        preferences.recipient_id
    from preferences
    inner join identities on preferences.recipient_id = identities.identifier
    qualify {{ is_latest_version(
        'identities.contact_key, preferences.channel, preferences.service',
        'preferences.last_modified_at'
    ) }}
)

select * from final
