create table campaign_recipients as
with recipients as (
    select *, born(person_id, 'rec:born', $new_rate) as created_at,
        rnd(person_id, 'rec:black') < 0.03 as blacklisted,
        rnd(person_id, 'rec:bad') < 0.02 as bad_address
    from people where in_campaign
),
versions as (
    select person_id, created_at as modified_at, 0 as version from recipients
    union all
    select person_id, delta_time(person_id, 'rec:upd'), 1 from recipients
    where rnd(person_id, 'rec:upd?') < $update_rate * greatest(0, $batches - 1)
)
select
    v.person_id, v.version, r.bad_address,
    delivered_in(v.modified_at, v.person_id * 4 + v.version, 'rec', $late_rate) as batch,
    r.recipient_id as "RecipientId",
    messy_email(case when r.uses_role_mailbox and rnd(r.person_id, 'rec:role') < 0.5
        then r.role_mailbox else r.email end, v.person_id * 4 + v.version, 'rec:email') as "Email",
    r.first_name as "FirstName",
    r.last_name as "LastName",
    case when r.in_crm and rnd(r.person_id, 'rec:linked') < 0.7 then r.crm_id end
        as "CrmContactId",
    case when r.blacklisted or (v.version = 1 and rnd(v.person_id, 'rec:optout') < 0.3)
        then '1' else '0' end as "BlackListEmail",
    iso(v.modified_at, v.person_id * 4 + v.version, 'rec:ts') as "LastModified"
from versions as v
inner join recipients as r using (person_id)
where v.modified_at is not null and v.modified_at >= r.created_at
