with

source as (
    select * from {{ source('campaign', 'broadlog') }}
),

checked as (
    select
        *,
        {{ reject_reason('campaign', 'broadlog') }} as reject_reason
    from source
),

renamed as (
    select
        {{ clean_text('broadlogid') }} as broadlog_id,
        {{ clean_text('deliveryid') }} as delivery_id,
        {{ clean_text('deliverylabel') }} as delivery_label,
        {{ clean_text('recipientid') }} as recipient_id,
        {{ normalize_email('address') }} as address,
        {{ source_timestamp('eventdate', 'campaign') }} as event_at,
        {{ clean_text('status') }} as status,
        {{ clean_text('failuretype') }} as failure_type,
        {{ clean_text('failurereason') }} as failure_reason,
        _load_id as load_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        {{ landed_record_id() }} as landed_record_id
    from checked
    where reject_reason is null
)

select * from renamed
