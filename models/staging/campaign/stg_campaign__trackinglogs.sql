with

source as (
    {{ usable_records('campaign', 'trackinglog') }}
),

renamed as (
    select
        {{ clean_text('trackinglogid') }} as trackinglog_id,
        {{ clean_text('broadlogid') }} as broadlog_id,
        {{ clean_text('deliveryid') }} as delivery_id,
        {{ clean_text('recipientid') }} as recipient_id,
        {{ source_timestamp('logdate', 'campaign') }} as logged_at,
        {{ clean_text('trackingtype') }} as tracking_type,
        {{ clean_text('url') }} as url,
        {{ landed_columns() }}
    from source
)

select * from renamed
