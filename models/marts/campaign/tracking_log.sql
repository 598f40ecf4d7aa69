-- Campaign trackingLog as experience events: one row per open, click or
-- opt-out, keyed to contact_key, with the delivery's label and the XDM event
-- type of its URL type (seed).

with

trackinglogs as (
    select * from {{ ref('int_campaign_trackinglogs_current') }}
),

deliveries as (
    select * from {{ ref('int_campaign_deliveries') }}
),

identities as (
    select * from {{ ref('identities') }}
    where namespace = 'campaign_id'
),

final as (
    select
        {{ campaign_event_id("'trackinglog'", 'trackinglogs.trackinglog_id') }}
            as event_id,
        trackinglogs.logged_at as event_at,
        trackinglogs.event_type,
        trackinglogs.trackinglog_id,
        trackinglogs.recipient_id,
        identities.contact_key,
        'email' as channel,
        trackinglogs.broadlog_id,
        trackinglogs.delivery_id,
        deliveries.delivery_label,
        trackinglogs.tracking_type,
        trackinglogs.url,
        trackinglogs._load_id as load_id,
        trackinglogs._row_number as source_row_number,
        trackinglogs._hwm_load_id,
        trackinglogs._written_at
    from trackinglogs
    left join deliveries on trackinglogs.delivery_id = deliveries.delivery_id
    left join identities on trackinglogs.recipient_id = identities.identifier
)

select * from final
