with

source as (
    select * from {{ source('campaign', 'recipients') }}
),

checked as (
    select
        *,
        {{ reject_reason('campaign', 'recipients') }} as reject_reason
    from source
),

renamed as (
    select
        {{ clean_text('recipientid') }} as recipient_id,
        {{ normalize_email('email') }} as email,
        {{ clean_text('firstname') }} as first_name,
        {{ clean_text('lastname') }} as last_name,
        {{ clean_text('crmcontactid') }} as crm_contact_id,
        coalesce({{ parse_boolean('blacklistemail') }}, false)
            as is_blacklisted,
        {{ source_timestamp('lastmodified', 'campaign') }} as last_modified_at,
        _load_id as load_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        {{ landed_record_id() }} as landed_record_id
    from checked
    where reject_reason is null
)

select * from renamed
