create table campaign_broadlog as
with recipients as (
    select person_id, any_value("RecipientId") as recipient_id,
        lower(trim(arg_min("Email", version))) as address,
        bool_or(bad_address) as bad_address,
        min(batch) as first_batch
    from campaign_recipients group by person_id
),
sends as (
    select r.*, d.d, d.delivery_id, d.label,
        ms(d.sent_at + to_milliseconds(floor(rnd(r.person_id * 64 + d.d, 'bl:at')
            * 7200000)::bigint)) as event_at,
        r.person_id * 64 + d.d as k,
        rnd(r.person_id * 64 + d.d, 'bl:status') as s
    from recipients as r
    inner join deliveries as d on batch_of(d.sent_at) >= r.first_batch
    -- newsletters in the history go to most recipients; the daily deltas carry
    -- smaller targeted sends, so a delta batch holds about 1% new rows
    where rnd(r.person_id * 64 + d.d, 'bl:send')
        < case when d.d < $history_deliveries then 0.6 else 0.04 end
),
-- Campaign's statuses, with the Enhanced MTA's success status the most common;
-- every status Campaign has appears, and "Delivered" (no Campaign status) stands
-- for a value the seed does not know.
labelled as (
    select *,
        case
            when bad_address or s < 0.012 then 'Failed'
            when s < 0.02 then 'Ignored'
            when s < 0.023 then 'Pending'
            when s < 0.0235 then 'Prepared'
            when s < 0.024 then 'Not applicable'
            when s < 0.0245 then 'Delivery canceled'
            when s < 0.025 then 'Sent to the service provider'
            when s < 0.0255 then 'Received on mobile'
            when s < 0.026 then 'Delivered'
            when s < 0.35 then 'Taken into account by the service provider'
            else 'Sent'
        end as status_label,
        case
            when bad_address then 'Hard'
            when s < 0.012 then pick(['Soft', 'Soft', 'Hard'], k, 'bl:ft')
            when s < 0.02 then 'Ignored'
        end as failure_type,
        case
            when bad_address then 'User unknown'
            when s < 0.012 then pick(['Mailbox full', 'Refused', 'Unreachable'], k, 'bl:fr')
            when s < 0.02 then 'Address on denylist'
        end as failure_reason,
        -- about one row in ten carries Campaign's numeric codes instead of labels
        rnd(k, 'bl:codes') < 0.1 as as_codes
    from sends
)
select
    person_id, k, event_at, status_label,
    delivered_in(event_at, k, 'bl', 0.01) as batch,
    (100000000 + k)::varchar as "BroadLogId",
    delivery_id as "DeliveryId",
    label as "DeliveryLabel",
    recipient_id as "RecipientId",
    address as "Address",
    iso(event_at, k, 'bl:ts') as "EventDate",
    case when as_codes then coalesce($status_codes, status_label)
        else status_label end as "Status",
    case when as_codes then $failure_type_codes else failure_type end as "FailureType",
    case when as_codes then $failure_reason_codes else failure_reason end
        as "FailureReason",
    failure_type
from labelled
