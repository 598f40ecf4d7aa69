-- Merges of contacts: an identifier moved from one contact_key to an older one
-- that survived. One row per contact key that disappeared into another.

with

history as (
    select * from {{ ref('identity_key_history') }}
),

moves as (
    select
        previous_contact_key as merged_contact_key,
        contact_key as surviving_contact_key,
        min(assigned_at) as merged_at,
        count(*) as identifiers_moved
    from history
    where previous_contact_key is not null and contact_key is not null
    group by previous_contact_key, contact_key
),

-- a move is a merge when the surviving key existed before the move
final as (
    select moves.*
    from moves
    where exists (
        select 1 from history
        where
            history.contact_key = moves.surviving_contact_key
            and history.assigned_at < moves.merged_at
    )
)

select * from final
