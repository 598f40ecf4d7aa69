create table support_contacts as
with contacts as (
    select *, born(person_id, 'sup:born', $new_rate) as created_at
    from people where in_support
),
versions as (
    select person_id, created_at as modified_at, 0 as version from contacts
    union all
    select person_id, delta_time(person_id, 'sup:upd'), 1 from contacts
    where rnd(person_id, 'sup:upd?') < $update_rate * greatest(0, $batches - 1)
)
select
    v.person_id, v.version,
    -- submitters often reach the extract after their first ticket
    delivered_in(v.modified_at, v.person_id * 4 + v.version, 'sup', 0.06) as batch,
    c.support_id as "Id",
    messy_email(c.email, v.person_id * 4 + v.version, 'sup:email') as "Email",
    case when v.version = 1 and rnd(v.person_id, 'sup:nick') < 0.5
        then c.first_name || ' "' || left(c.first_name, 3) || '" ' || c.last_name
        else c.first_name || ' ' || c.last_name end as "Name",
    iso(v.modified_at, v.person_id * 4 + v.version, 'sup:ts') as "LastModifiedOn"
from versions as v
inner join contacts as c using (person_id)
where v.modified_at is not null and v.modified_at >= c.created_at
