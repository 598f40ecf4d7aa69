with

source as (
    {{ usable_records('support', 'tickets') }}
),

renamed as (
    select
        {{ clean_text('id') }} as ticket_id,
        {{ clean_text('submitedbyid') }} as submitted_by_id,
        {{ clean_text('subject') }} as subject,
        {{ clean_text('status') }} as status,
        {{ source_timestamp('createdon', 'support') }} as created_at,
        {{ source_timestamp('lastmodifiedon', 'support') }} as last_modified_at,
        {{ landed_columns() }}
    from source
)

select * from renamed
