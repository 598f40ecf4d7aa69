create table campaign_trackinglog as
with opens as (
    select *, ms(event_at + to_milliseconds(floor(rnd(k, 'tl:open') * 2 * 86400000)::bigint))
        as opened_at
    from campaign_broadlog
    where status_label in ('Sent', 'Taken into account by the service provider')
        and rnd(k, 'tl:opened') < 0.3
),
events as (
    select *, 'Open' as tracking_type, opened_at as logged_at, 0 as n, null as url from opens
    union all
    select *, pick(['Click', 'Click', 'Email click'], k, 'tl:type'),
        ms(opened_at + to_milliseconds(floor(rnd(k, 'tl:click') * 600000)::bigint)),
        1, pick($urls, k, 'tl:url')
    from opens where rnd(k, 'tl:clicked') < 0.35
    union all
    select *, 'Opt-out', ms(opened_at + to_milliseconds(floor(rnd(k, 'tl:out') * 900000)::bigint)),
        2, 'https://www.example.com/unsubscribe'
    from opens where rnd(k, 'tl:optout') < 0.02
)
select
    person_id,
    delivered_in(logged_at, k * 4 + n, 'tl', 0.01) as batch,
    (200000000 + k * 4 + n)::varchar as "TrackingLogId",
    "BroadLogId",
    "DeliveryId",
    "RecipientId",
    iso(logged_at, k * 4 + n, 'tl:ts') as "LogDate",
    tracking_type as "TrackingType",
    url as "Url"
from events
