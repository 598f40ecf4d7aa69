create table campaign_quarantine as
with failures as (
    select "Address" as address, min(person_id) as person_id,
        count(*) as errors, max(event_at) as last_error_at,
        bool_or(failure_type = 'Hard') as hard
    from campaign_broadlog where status_label = 'Failed' group by "Address"
),
denied as (
    select lower(trim("Email")) as address, min(person_id) as person_id,
        min(batch) as batch
    from campaign_recipients
    where "BlackListEmail" = '1' and rnd(person_id, 'q:deny') < 0.3 group by 1
)
select
    person_id, delivered_in(last_error_at, person_id, 'q', 0.01) as batch,
    address as "Address",
    case when hard then 'Quarantine' else 'With errors' end as "Status",
    case when hard then 'User unknown' else 'Mailbox full' end as "ErrorReason",
    case when hard then '550 5.1.1 User unknown' else '452 4.2.2 Mailbox full' end as "ErrorText",
    errors::varchar as "ErrorCount",
    iso(last_error_at, person_id, 'q:ts') as "LastModified"
from failures
union all
select
    person_id, batch, address, 'Denylisted', 'Refused', 'Recipient reported spam',
    '1', iso(t1() - interval 3 day, person_id, 'q:ts2')
from denied
