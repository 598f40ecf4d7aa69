with

source as (
    select * from {{ source('campaign', 'quarantine') }}
),

checked as (
    select
        *,
        {{ reject_reason('campaign', 'quarantine') }} as reject_reason
    from source
),

renamed as (
    select
        {{ normalize_email('address') }} as address,
        {{ clean_text('status') }} as status,
        {{ clean_text('errorreason') }} as error_reason,
        {{ clean_text('errortext') }} as error_text,
        try_cast(trim(errorcount) as integer) as error_count,
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
