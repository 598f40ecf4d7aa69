create table support_tickets as
with ticket_numbers as (
    select person_id, support_id, unnest(range(floor(rnd(person_id, 'tic:n') * 4)::int)) as i
    from people where in_support
),
tickets as (
    select
        c.person_id, c.support_id, i, c.person_id * 8 + i as k,
        greatest(born(c.person_id, 'sup:born', $new_rate),
            born(c.person_id * 8 + i, 'tic:born', $new_rate))
            + interval 1 minute as created_at
    from ticket_numbers as c
),
versions as (
    select *, 0 as version, created_at as modified_at, 'New' as status from tickets
    union all
    select *, 1, ms(created_at + to_milliseconds(floor(rnd(k, 'tic:solve') * 5 * 86400000)::bigint)),
        pick(['Solved', 'Closed', 'Pending'], k, 'tic:status')
    from tickets where rnd(k, 'tic:upd') < 0.4
)
select
    person_id, version,
    delivered_in(modified_at, k * 2 + version, 'tic', $late_rate) as batch,
    'TIC-' || lpad(person_id::varchar, 8, '0') || '-' || i as "Id",
    support_id as "SubmitedById",
    pick($subjects, k, 'tic:subject') as "Subject",
    status as "Status",
    iso(created_at, k * 2 + version, 'tic:created') as "CreatedOn",
    iso(modified_at, k * 2 + version, 'tic:modified') as "LastModifiedOn"
from versions
