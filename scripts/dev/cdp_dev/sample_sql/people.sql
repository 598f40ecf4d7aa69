create table people as
select
    p as person_id,
    pick($first_names, p, 'first') as first_name,
    pick($last_names, p, 'last') as last_name,
    lower(replace(replace(strip_accents(pick($first_names, p, 'first')
        || '.' || pick($last_names, p, 'last')), '''', ''), ' ', ''))
        || '.' || p || '@' || pick($domains, p, 'domain') as email,
    pick($role_mailboxes, p, 'role') || '@company'
        || (hash(p, 'company') % $companies) || '.example.com' as role_mailbox,
    rnd(p, 'shares') < 0.01 as uses_role_mailbox,
    rnd(p, 'crm') < 0.85 as in_crm,
    rnd(p, 'support') < 0.30 as in_support,
    rnd(p, 'campaign') < 0.70 as in_campaign,
    'CRM-' || lpad(p::varchar, 8, '0') as crm_id,
    'SUP-' || lpad(p::varchar, 8, '0') as support_id,
    (10000000 + p)::varchar as recipient_id,
    (1 + hash(p, 'street') % 240) || ' ' || pick($streets, p, 'street')
        || case when rnd(p, 'flat') < 0.08 then chr(10) || 'Flat ' || (1 + hash(p, 'flat') % 30)
           else '' end
        || ', ' || pick($cities, p, 'city') as address,
    '+44 20 7946 ' || lpad((hash(p, 'phone') % 10000)::varchar, 4, '0') as phone
from range($contacts) as t(p)
