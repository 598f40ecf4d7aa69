with

source as (
    {{ usable_records('crm', 'contacts') }}
),

renamed as (
    select
        {{ clean_text('id') }} as contact_id,
        {{ normalize_email('email') }} as email,
        {{ clean_text('firstname') }} as first_name,
        {{ clean_text('lastname') }} as last_name,
        {{ clean_text('address') }} as address,
        {{ clean_text('phone') }} as phone,
        coalesce({{ parse_boolean('isdeleted') }}, false) as is_deleted,
        {{ source_timestamp('lastmodifiedon', 'crm') }} as last_modified_at,
        {{ landed_columns() }}
    from source
)

select * from renamed
