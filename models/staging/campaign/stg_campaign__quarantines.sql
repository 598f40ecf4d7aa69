with

source as (
    {{ usable_records('campaign', 'quarantine') }}
),

renamed as (
    select
        {{ normalize_email('address') }} as address,
        {{ clean_text('status') }} as status,
        {{ clean_text('errorreason') }} as error_reason,
        {{ clean_text('errortext') }} as error_text,
        try_cast(trim(errorcount) as integer) as error_count,
        {{ source_timestamp('lastmodified', 'campaign') }} as last_modified_at,
        {{ landed_columns() }}
    from source
)

select * from renamed
