with

source as (
    select * from {{ source('cdp_state', 'segment_export_members') }}
),

renamed as (
    select
        segment_id,
        recipient_id,
        exported_at,
        export_id
    from source
)

select * from renamed
