-- Recipients a segment selected but suppression kept out, per segment and
-- reason.

with

candidates as (
    select * from {{ ref('segment_candidates') }}
),

final as (
    select
        segment_id,
        suppressed_because as reason,
        count(*) as recipients
    from candidates
    where suppressed_because is not null
    group by segment_id, suppressed_because
)

select * from final
