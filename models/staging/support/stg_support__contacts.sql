with

source as (
    select * from {{ source('support', 'contacts') }}
),

checked as (
    select
        *,
        {{ reject_reason('support', 'contacts') }} as reject_reason
    from source
),

renamed as (
    select
        {{ clean_text('id') }} as support_contact_id,
        {{ normalize_email('email') }} as email,
        {{ clean_text('name') }} as full_name,
        {{ source_timestamp('lastmodifiedon', 'support') }} as last_modified_at,
        _load_id as load_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        {{ landed_record_id() }} as landed_record_id
    from checked
    where reject_reason is null
)

select * from renamed
