-- The members of each segment's latest export (to whichever destination): the
-- baseline campaign.segment_membership compares the current members with.

with

source as (
    select * from {{ source('cdp_state', 'segment_export_members') }}
),

latest_export as (
    select * from source
    qualify dense_rank() over (
        partition by segment_id order by exported_at desc, export_id desc
    ) = 1
),

renamed as (
    select
        segment_id,
        recipient_id,
        exported_at,
        export_id,
        destination
    from latest_export
)

select * from renamed
