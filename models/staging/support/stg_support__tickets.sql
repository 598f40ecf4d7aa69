with

source as (
    select * from {{ source('support', 'tickets') }}
),

checked as (
    select
        *,
        {{ reject_reason('support', 'tickets') }} as reject_reason
    from source
),

renamed as (
    select
        {{ clean_text('id') }} as ticket_id,
        {{ clean_text('submitedbyid') }} as submitted_by_id,
        {{ clean_text('subject') }} as subject,
        {{ clean_text('status') }} as status,
        {{ source_timestamp('createdon', 'support') }} as created_at,
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
