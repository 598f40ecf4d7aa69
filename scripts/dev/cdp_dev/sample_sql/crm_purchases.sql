create table crm_purchases as
with purchase_numbers as (
    select person_id, crm_id, unnest(range(floor(rnd(person_id, 'pur:n') * 5)::int)) as i
    from people where in_crm
),
purchases as (
    select
        c.person_id, c.crm_id, i,
        c.person_id * 8 + i as k,
        case when rnd(c.person_id * 8 + i, 'pur:pending') < 0.03 and $batches > 1
            -- created just before the first extract and paid in a delta batch
            then ms(t1() - to_milliseconds(floor(rnd(c.person_id * 8 + i, 'pur:pend:s')
                * 2 * 86400000)::bigint))
            else born(c.person_id * 8 + i, 'pur:born', $new_rate * 2)
        end as created_at,
        rnd(c.person_id * 8 + i, 'pur:pay') as pay
    from purchase_numbers as c
),
dated as (
    select *,
        case
            when pay < 0.75 then ms(created_at + to_milliseconds(floor(pay * 7200000)::bigint))
            when pay < 0.95 and created_at < t1() and created_at > t1() - interval 2 day
                then delta_time(k, 'pur:paidlater')
            when pay < 0.95 then ms(created_at + to_milliseconds(floor(pay * 3 * 86400000)::bigint))
        end as paid_at
    from purchases
),
shipped as (
    select *,
        case when paid_at is not null and rnd(k, 'pur:ship') < 0.6
            then ms(paid_at + to_milliseconds(floor(rnd(k, 'pur:ship:s') * 2 * 86400000)::bigint))
        end as shipped_at
    from dated
),
versions as (
    -- paid at once: one version; otherwise unpaid first, then paid, then shipped
    select *, 0 as version, created_at as modified_at from shipped
    union all
    select *, 1, paid_at from shipped where paid_at > created_at + interval 2 hour
    union all
    select *, 2, shipped_at from shipped where shipped_at is not null
)
select
    person_id, version,
    delivered_in(modified_at, k * 4 + version, 'pur', $late_rate) as batch,
    'PUR-' || lpad(person_id::varchar, 8, '0') || '-' || i as "Id",
    crm_id as "ContactId",
    pick($products, k, 'pur:product') as "ProductName",
    case when rnd(k, 'pur:refund') < 0.01 then '-12.50'
        else printf('%.2f', 9.99 + (hash(k, 'pur:amount') % 200000) / 100.0) end as "Amount",
    pick($currencies, k, 'pur:currency') as "Currency",
    iso(created_at, k * 4 + version, 'pur:created') as "Created",
    iso(case when paid_at <= modified_at then paid_at end, k * 4 + version, 'pur:paid') as "PaidOn",
    iso(case when shipped_at <= modified_at then shipped_at end, k * 4 + version, 'pur:ship')
        as "ShippedOn",
    iso(modified_at, k * 4 + version, 'pur:modified') as "LastModifiedOn"
from versions
where modified_at is not null
