with

source as (
    {{ usable_records('campaign', 'recipients') }}
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
        {{ landed_columns() }}
    from source
)

select * from renamed
