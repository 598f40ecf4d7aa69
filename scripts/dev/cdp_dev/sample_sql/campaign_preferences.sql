create table campaign_preferences as
with recipients as (
    select person_id, any_value("RecipientId") as recipient_id
    from campaign_recipients group by person_id
),
versions as (
    -- a newsletter subscription when the recipient was created
    select person_id, recipient_id, 'email' as channel, 'Newsletter' as service,
        true as subscribed,
        t1() - interval 400 day + to_days((person_id % 300)::int) as changed_at, 0 as v
    from recipients where rnd(person_id, 'pref:news') < 0.4
    union all
    -- an SMS opt-in for a few
    select person_id, recipient_id, 'sms', null, true,
        t1() - interval 200 day + to_days((person_id % 150)::int), 1
    from recipients where rnd(person_id, 'pref:sms') < 0.05
    union all
    -- email opt-outs in the history and in the deltas...
    select person_id, recipient_id, 'email', null, false,
        coalesce(delta_time(person_id, 'pref:out'),
                 t1() - to_days(1 + (person_id % 30)::int)), 2
    from recipients where rnd(person_id, 'pref:out?') < 0.08
    union all
    -- ...a third of them opting in again a day later
    select person_id, recipient_id, 'email', null, true,
        coalesce(delta_time(person_id, 'pref:out'),
                 t1() - to_days(1 + (person_id % 30)::int)) + interval 1 day, 3
    from recipients where rnd(person_id, 'pref:out?') < 0.08
        and rnd(person_id, 'pref:back') < 0.33
)
select
    person_id,
    delivered_in(changed_at, person_id * 8 + v, 'pref', $late_rate * 4) as batch,
    recipient_id as "RecipientId",
    -- the extract leaves an email channel empty now and then
    case when channel = 'email' and rnd(person_id * 8 + v, 'pref:ch') < 0.2 then null
        else channel end as "Channel",
    service as "Service",
    case when rnd(person_id * 8 + v, 'pref:fmt') < 0.5 then subscribed::varchar
        else case when subscribed then '1' else '0' end end as "Subscribed",
    iso(ms(changed_at), person_id * 8 + v, 'pref:ts') as "LastModified"
from versions
