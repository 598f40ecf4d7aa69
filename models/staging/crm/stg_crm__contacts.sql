with

source as (
    select * from {{ source('crm', 'contacts') }}
),

checked as (
    select
        *,
        {{ reject_reason('crm', 'contacts') }} as reject_reason
    from source
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
        _load_id as load_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        {{ landed_record_id() }} as landed_record_id
    from checked
    where reject_reason is null
)

select * from renamed
