-- Campaign trackingLog; the URL type (Open, Email click, Opt-out, ...)
-- decoded to its XDM event type by a seed. An unknown type keeps its row and
-- maps to no event.

with

source as (
    {{ usable_records('campaign', 'trackinglog') }}
),

tracking_types as (
    {{ campaign_vocabulary('campaign_tracking_types', 'tracking_type_label') }}
),

renamed as (
    select
        {{ clean_text('trackinglogid') }} as trackinglog_id,
        {{ clean_text('broadlogid') }} as broadlog_id,
        {{ clean_text('deliveryid') }} as delivery_id,
        {{ clean_text('recipientid') }} as recipient_id,
        {{ source_timestamp('logdate', 'campaign') }} as logged_at,
        {{ clean_text('trackingtype') }} as tracking_type_text,
        {{ clean_text('url') }} as url,
        {{ landed_columns() }}
    from source
),

decoded as (
    select
        renamed.trackinglog_id,
        renamed.broadlog_id,
        renamed.delivery_id,
        renamed.recipient_id,
        renamed.logged_at,
        coalesce(
            tracking_types.tracking_type_label, renamed.tracking_type_text
        ) as tracking_type,
        nullif(tracking_types.event_type, '') as event_type,
        renamed.url,
        {{ landed_columns_of('renamed') }}
    from renamed
    left join tracking_types
        on lower(renamed.tracking_type_text) = tracking_types.vocabulary_key
)

select * from decoded
