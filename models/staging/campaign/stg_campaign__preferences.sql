with

source as (
    {{ usable_records('campaign', 'preferences') }}
),

renamed as (
    select
        {{ clean_text('recipientid') }} as recipient_id,
        coalesce(lower({{ clean_text('channel') }}), 'email') as channel,
        {{ clean_text('service') }} as service,
        {{ parse_boolean('subscribed') }} as is_subscribed,
        {{ source_timestamp('lastmodified', 'campaign') }} as last_modified_at,
        {{ landed_columns() }}
    from source
)

select * from renamed
