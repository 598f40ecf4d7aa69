with

source as (
    select * from {{ source('campaign', 'trackinglog') }}
),

checked as (
    select
        *,
        {{ reject_reason('campaign', 'trackinglog') }} as reject_reason
    from source
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
        _load_id as load_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        {{ landed_record_id() }} as landed_record_id
    from checked
    where reject_reason is null
)

select * from renamed
