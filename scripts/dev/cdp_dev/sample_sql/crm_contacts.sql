create table crm_contacts as
with contacts as (
    select *, born(person_id, 'crm:born', $new_rate) as created_at
    from people where in_crm or uses_role_mailbox
),
versions as (
    -- the record as first extracted
    select person_id, created_at as modified_at, 0 as version, false as deleted
    from contacts
    union all
    -- an update within the history
    select person_id,
        ms(created_at + (t1() - created_at) * rnd(person_id, 'crm:hist')), 1, false
    from contacts
    where created_at < t1() and rnd(person_id, 'crm:upd1') < 0.2
    union all
    -- an update in a delta batch
    select person_id, delta_time(person_id, 'crm:d2'), 2, false
    from contacts
    where rnd(person_id, 'crm:upd2') < $update_rate * greatest(0, $batches - 1)
    union all
    -- a deletion, in the history or in a delta batch
    select person_id,
        case when rnd(person_id, 'crm:delwhen') < 0.4
            then ms(created_at + (t1() - created_at) * 0.99) else delta_time(person_id, 'crm:d3')
        end, 3, true
    from contacts
    where rnd(person_id, 'crm:del') < 0.005 + $delete_rate * greatest(0, $batches - 1)
)
select
    v.person_id, v.version,
    delivered_in(v.modified_at, v.person_id * 8 + v.version, 'crm', $late_rate) as batch,
    c.crm_id as "Id",
    messy_email(case
        when c.uses_role_mailbox then c.role_mailbox
        when v.version >= 2 and rnd(v.person_id, 'crm:newmail') < 0.1
            then replace(c.email, '@', '.new@')
        else c.email end, v.person_id * 8 + v.version, 'crm:email') as "Email",
    c.first_name as "FirstName",
    c.last_name as "LastName",
    case when v.version >= 1 and rnd(v.person_id * 8 + v.version, 'crm:move') < 0.5
        then (1 + hash(v.person_id, v.version, 'street2') % 240) || ' Market Street, '
            || pick($cities, v.person_id * 8 + v.version, 'city2')
        else c.address end as "Address",
    c.phone as "Phone",
    case when v.deleted then pick(['true', 'True', '1'], v.person_id, 'crm:t')
        else pick(['false', 'false', 'False', '0', ''], v.person_id * 8 + v.version, 'crm:f')
    end as "IsDeleted",
    iso(v.modified_at, v.person_id * 8 + v.version, 'crm:ts') as "LastModifiedOn"
from versions as v
inner join contacts as c using (person_id)
where v.modified_at is not null and v.modified_at >= c.created_at
