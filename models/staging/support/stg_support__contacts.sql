with

source as (
    {{ usable_records('support', 'contacts') }}
),

renamed as (
    select
        {{ clean_text('id') }} as support_contact_id,
        {{ normalize_email('email') }} as email,
        {{ clean_text('name') }} as full_name,
        {{ source_timestamp('lastmodifiedon', 'support') }} as last_modified_at,
        {{ landed_columns() }}
    from source
)

select * from renamed
