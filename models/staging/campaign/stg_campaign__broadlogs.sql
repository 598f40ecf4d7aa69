with

source as (
    {{ usable_records('campaign', 'broadlog') }}
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
        {{ landed_columns() }}
    from source
)

select * from renamed
