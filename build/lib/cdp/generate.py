"""`cdp generate`: realistic, deliberately messy sample extracts for every entity.

Everything is computed inside DuckDB with hash-based pseudo-random numbers (the same
seed gives the same bytes) and written with `COPY`, so a million contacts take seconds,
not hours. The data follows a population of people through the source systems:

- batch 1 is the initial full extract (two years of history); batches 2..K are daily
  deltas with about 1% new or changed rows each;
- contacts are updated and deleted in later batches; some records arrive late (their
  business timestamp is older than records delivered before them); some arrive twice;
- emails differ in case and white space between systems; some people share a role
  mailbox (info@, support@, ...) in the CRM;
- purchases are delivered unpaid and paid in a later batch; some tickets arrive before
  their submitter; some Campaign recipients carry a CrmContactId, others only an email;
- Campaign logs carry bounces, opens, clicks and opt-outs, preferences carry
  subscriptions, email opt-outs (some late) and opt-ins again, with every status Campaign
  has, as labels and as numeric codes, and one value the seeds do not know; the
  quarantine list carries quarantined and denylisted addresses;
- the files themselves carry landing mess: headers in other case and order, a new
  column, a BOM with CRLF line ends, malformed lines, and records staging must reject.

`<root>/_truth/identities.parquet` says which source records belong to one person.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from cdp.errors import CdpError
from cdp.project import duckdb_config, project_dir, writable_folder
from cdp.sql import literal

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Sofia", "Lukas", "Emma", "Noah", "Zoë",
    "José", "Anaïs", "Björn", "Siobhán", "Mateo",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "O'Brien", "Müller", "van Dijk",
    "Nguyen", "Kowalski", "Dubois", "Rossi", "Jensen", "Novak", "Schmidt",
]
DOMAINS = ["example.com", "mail.example.org", "inbox.example.net", "post.example.com"]
ROLE_MAILBOXES = ["info", "support", "sales", "office", "contact"]
STREETS = ["Main Street", "High Street", "Station Road", "Church Lane", "Park Avenue",
           "Mill Road", "Kingsway", "Victoria Road"]
CITIES = ["Springfield", "Riverside", "Franklin", "Greenville", "Bristol", "Salem",
          "Fairview", "Madison"]
PRODUCTS = ["Starter Plan", "Pro Plan", "Enterprise Plan", "Training Voucher",
            "Support Add-on", "Analytics Module", 'Widget 12" Deluxe',
            "Consulting, 1 day"]
CURRENCIES = ["EUR", "USD", "GBP"]
SUBJECTS = ["Cannot log in", "Invoice question", 'Error "500" on checkout',
            "Refund request, order delayed", "How do I export my data?",
            "Password reset", "Feature request: dark mode", "Billing address change"]
TICKET_STATUSES = ["New", "Open", "Pending", "Solved", "Closed"]
DELIVERY_LABELS = ["Monthly newsletter", "Spring sale", "Product update",
                   "Webinar invitation", "Customer survey", "Win-back offer"]
URLS = ["https://www.example.com/pricing", "https://www.example.com/blog/release",
        "https://www.example.com/webinar?utm_source=campaign",
        "https://shop.example.com/sale"]

# Newsletters sent in the two years of history (about 15 rows per contact in all).
HISTORY_DELIVERIES = 16

# Rates per daily delta batch.
NEW_RATE = 0.003
UPDATE_RATE = 0.006
DELETE_RATE = 0.0015
LATE_RATE = 0.02

ENTITY_COLUMNS = {
    ("crm", "contacts"): ["Id", "Email", "FirstName", "LastName", "Address", "Phone",
                          "IsDeleted", "LastModifiedOn"],
    ("crm", "purchases"): ["Id", "ContactId", "ProductName", "Amount", "Currency",
                           "Created", "PaidOn", "ShippedOn", "LastModifiedOn"],
    ("support", "contacts"): ["Id", "Email", "Name", "LastModifiedOn"],
    ("support", "tickets"): ["Id", "SubmitedById", "Subject", "Status", "CreatedOn",
                             "LastModifiedOn"],
    ("campaign", "recipients"): ["RecipientId", "Email", "FirstName", "LastName",
                                 "CrmContactId", "BlackListEmail", "LastModified"],
    ("campaign", "broadlog"): ["BroadLogId", "DeliveryId", "DeliveryLabel", "RecipientId",
                               "Address", "EventDate", "Status", "FailureType",
                               "FailureReason"],
    ("campaign", "trackinglog"): ["TrackingLogId", "BroadLogId", "DeliveryId",
                                  "RecipientId", "LogDate", "TrackingType", "Url"],
    ("campaign", "quarantine"): ["Address", "Status", "ErrorReason", "ErrorText",
                                 "ErrorCount", "LastModified"],
    ("campaign", "preferences"): ["RecipientId", "Channel", "Service", "Subscribed",
                                  "LastModified"],
}

# The column whose value staging must parse, per entity, for the staging-reject mess.
KEY_AND_TIMESTAMP = {
    ("crm", "contacts"): ("Id", "LastModifiedOn"),
    ("crm", "purchases"): ("Id", "Created"),
    ("support", "contacts"): ("Id", "LastModifiedOn"),
    ("support", "tickets"): ("Id", "CreatedOn"),
    ("campaign", "recipients"): ("RecipientId", "LastModified"),
    ("campaign", "broadlog"): ("BroadLogId", "EventDate"),
    ("campaign", "trackinglog"): ("TrackingLogId", "LogDate"),
    ("campaign", "quarantine"): ("Address", "LastModified"),
    ("campaign", "preferences"): ("RecipientId", "LastModified"),
}

DEFAULT_FIRST_EXTRACT = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


@dataclass
class GenerateReport:
    root: Path
    files: list[tuple[str, str, int]] = field(default_factory=list)  # entity, file, rows

    @property
    def rows(self) -> int:
        return sum(rows for *_, rows in self.files)


def sql_list(values: list[str]) -> str:
    return "[" + ", ".join(literal(value) for value in values) + "]"


def define_macros(con: duckdb.DuckDBPyConnection, seed: int, batches: int, t1: str) -> None:
    """Deterministic randomness and the calendar of extract batches."""
    con.execute(f"""
        create macro rnd(k, tag) as
            (hash(k, tag, {seed}) % 1000000007)::double / 1000000007;
        create macro pick(items, k, tag) as
            items[1 + (hash(k, tag, {seed}) % len(items))::bigint];
        create macro t1() as timestamp '{t1}';
        create macro ms(ts) as date_trunc('millisecond', ts);
        -- The batch whose extract first contains a record modified at ts.
        create macro batch_of(ts) as case
            when ts <= t1() then 1
            else least({batches}, 1 + ceil(epoch(ts - t1()) / 86400)::int)
        end;
        -- Most records are delivered in that batch; a few arrive one or two batches late.
        create macro delivered_in(ts, k, tag, late_rate) as case
            when rnd(k, tag || ':late') < late_rate
                then least({batches}, batch_of(ts) + 1 + floor(rnd(k, tag || ':lag') * 2)::int)
            else batch_of(ts)
        end;
        -- When a record first exists: within two years of history, or in a delta batch.
        create macro born(k, tag, rate) as ms(case
            when {batches} > 1 and rnd(k, tag) < rate * ({batches} - 1)
                then t1() + to_days(floor(rnd(k, tag) / rate)::int)
                    + to_milliseconds(floor(rnd(k, tag || ':s') * 86400000)::bigint)
            else t1() - to_milliseconds(floor(rnd(k, tag || ':s') * 730 * 86400000)::bigint)
        end);
        -- A moment in a random delta batch after ts (null when there is no delta batch).
        create macro delta_time(k, tag) as case when {batches} > 1 then ms(
            t1() + to_days(floor(rnd(k, tag) * ({batches} - 1))::int)
                + to_milliseconds(floor(rnd(k, tag || ':s') * 86400000)::bigint)) end;
        -- Source systems write ISO 8601 in several ways; all mean the same UTC instant.
        create macro iso(ts, k, tag) as case
            when ts is null then null
            when rnd(k, tag || ':fmt') < 0.80 then strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ')
            when rnd(k, tag || ':fmt') < 0.90
                then strftime(ts + interval 2 hour, '%Y-%m-%dT%H:%M:%S.%g') || '+02:00'
            else strftime(ts, '%Y-%m-%d %H:%M:%S')
        end;
        create macro messy_email(e, k, tag) as case
            when e is null then null
            when rnd(k, tag) < 0.04 then upper(e)
            when rnd(k, tag) < 0.12 then upper(e[1]) || e[2:]
            when rnd(k, tag) < 0.17 then ' ' || e || '  '
            else e
        end;
    """)


def people_sql(contacts: int) -> str:
    companies = max(2, contacts // 20000)
    return f"""
    create table people as
    select
        p as person_id,
        pick({sql_list(FIRST_NAMES)}, p, 'first') as first_name,
        pick({sql_list(LAST_NAMES)}, p, 'last') as last_name,
        lower(replace(replace(strip_accents(pick({sql_list(FIRST_NAMES)}, p, 'first')
            || '.' || pick({sql_list(LAST_NAMES)}, p, 'last')), '''', ''), ' ', ''))
            || '.' || p || '@' || pick({sql_list(DOMAINS)}, p, 'domain') as email,
        pick({sql_list(ROLE_MAILBOXES)}, p, 'role') || '@company'
            || (hash(p, 'company') % {companies}) || '.example.com' as role_mailbox,
        rnd(p, 'shares') < 0.01 as uses_role_mailbox,
        rnd(p, 'crm') < 0.85 as in_crm,
        rnd(p, 'support') < 0.30 as in_support,
        rnd(p, 'campaign') < 0.70 as in_campaign,
        'CRM-' || lpad(p::varchar, 8, '0') as crm_id,
        'SUP-' || lpad(p::varchar, 8, '0') as support_id,
        (10000000 + p)::varchar as recipient_id,
        (1 + hash(p, 'street') % 240) || ' ' || pick({sql_list(STREETS)}, p, 'street')
            || case when rnd(p, 'flat') < 0.08 then chr(10) || 'Flat ' || (1 + hash(p, 'flat') % 30)
               else '' end
            || ', ' || pick({sql_list(CITIES)}, p, 'city') as address,
        '+44 20 7946 ' || lpad((hash(p, 'phone') % 10000)::varchar, 4, '0') as phone
    from range({contacts}) as t(p)
    """


CRM_CONTACTS = f"""
create table crm_contacts as
with contacts as (
    select *, born(person_id, 'crm:born', {NEW_RATE}) as created_at
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
    where rnd(person_id, 'crm:upd2') < {UPDATE_RATE} * greatest(0, $batches - 1)
    union all
    -- a deletion, in the history or in a delta batch
    select person_id,
        case when rnd(person_id, 'crm:delwhen') < 0.4
            then ms(created_at + (t1() - created_at) * 0.99) else delta_time(person_id, 'crm:d3')
        end, 3, true
    from contacts
    where rnd(person_id, 'crm:del') < 0.005 + {DELETE_RATE} * greatest(0, $batches - 1)
)
select
    v.person_id, v.version,
    delivered_in(v.modified_at, v.person_id * 8 + v.version, 'crm', {LATE_RATE}) as batch,
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
            || pick({sql_list(CITIES)}, v.person_id * 8 + v.version, 'city2')
        else c.address end as "Address",
    c.phone as "Phone",
    case when v.deleted then pick(['true', 'True', '1'], v.person_id, 'crm:t')
        else pick(['false', 'false', 'False', '0', ''], v.person_id * 8 + v.version, 'crm:f')
    end as "IsDeleted",
    iso(v.modified_at, v.person_id * 8 + v.version, 'crm:ts') as "LastModifiedOn"
from versions as v
inner join contacts as c using (person_id)
where v.modified_at is not null and v.modified_at >= c.created_at
"""

CRM_PURCHASES = f"""
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
            else born(c.person_id * 8 + i, 'pur:born', {NEW_RATE} * 2)
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
    delivered_in(modified_at, k * 4 + version, 'pur', {LATE_RATE}) as batch,
    'PUR-' || lpad(person_id::varchar, 8, '0') || '-' || i as "Id",
    crm_id as "ContactId",
    pick({sql_list(PRODUCTS)}, k, 'pur:product') as "ProductName",
    case when rnd(k, 'pur:refund') < 0.01 then '-12.50'
        else printf('%.2f', 9.99 + (hash(k, 'pur:amount') % 200000) / 100.0) end as "Amount",
    pick({sql_list(CURRENCIES)}, k, 'pur:currency') as "Currency",
    iso(created_at, k * 4 + version, 'pur:created') as "Created",
    iso(case when paid_at <= modified_at then paid_at end, k * 4 + version, 'pur:paid') as "PaidOn",
    iso(case when shipped_at <= modified_at then shipped_at end, k * 4 + version, 'pur:ship')
        as "ShippedOn",
    iso(modified_at, k * 4 + version, 'pur:modified') as "LastModifiedOn"
from versions
where modified_at is not null
"""

SUPPORT_CONTACTS = f"""
create table support_contacts as
with contacts as (
    select *, born(person_id, 'sup:born', {NEW_RATE}) as created_at
    from people where in_support
),
versions as (
    select person_id, created_at as modified_at, 0 as version from contacts
    union all
    select person_id, delta_time(person_id, 'sup:upd'), 1 from contacts
    where rnd(person_id, 'sup:upd?') < {UPDATE_RATE} * greatest(0, $batches - 1)
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
"""

SUPPORT_TICKETS = f"""
create table support_tickets as
with ticket_numbers as (
    select person_id, support_id, unnest(range(floor(rnd(person_id, 'tic:n') * 4)::int)) as i
    from people where in_support
),
tickets as (
    select
        c.person_id, c.support_id, i, c.person_id * 8 + i as k,
        greatest(born(c.person_id, 'sup:born', {NEW_RATE}),
            born(c.person_id * 8 + i, 'tic:born', {NEW_RATE}))
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
    delivered_in(modified_at, k * 2 + version, 'tic', {LATE_RATE}) as batch,
    'TIC-' || lpad(person_id::varchar, 8, '0') || '-' || i as "Id",
    support_id as "SubmitedById",
    pick({sql_list(SUBJECTS)}, k, 'tic:subject') as "Subject",
    status as "Status",
    iso(created_at, k * 2 + version, 'tic:created') as "CreatedOn",
    iso(modified_at, k * 2 + version, 'tic:modified') as "LastModifiedOn"
from versions
"""

CAMPAIGN_RECIPIENTS = f"""
create table campaign_recipients as
with recipients as (
    select *, born(person_id, 'rec:born', {NEW_RATE}) as created_at,
        rnd(person_id, 'rec:black') < 0.03 as blacklisted,
        rnd(person_id, 'rec:bad') < 0.02 as bad_address
    from people where in_campaign
),
versions as (
    select person_id, created_at as modified_at, 0 as version from recipients
    union all
    select person_id, delta_time(person_id, 'rec:upd'), 1 from recipients
    where rnd(person_id, 'rec:upd?') < {UPDATE_RATE} * greatest(0, $batches - 1)
)
select
    v.person_id, v.version, r.bad_address,
    delivered_in(v.modified_at, v.person_id * 4 + v.version, 'rec', {LATE_RATE}) as batch,
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
"""

DELIVERIES = f"""
create table deliveries as
select
    d,
    'DM' || (1000 + d) as delivery_id,
    pick({sql_list(DELIVERY_LABELS)}, d, 'label') || ' #' || (1000 + d) as label,
    -- a newsletter every other week in the history, then one send a day
    case when d < {HISTORY_DELIVERIES}
        then t1() - to_days(({HISTORY_DELIVERIES} - d) * 14) + interval 10 hour
        else t1() + to_days(d - {HISTORY_DELIVERIES}) + interval 10 hour end as sent_at
from range({HISTORY_DELIVERIES} + greatest(0, $batches - 1)) as t(d)
"""

CAMPAIGN_BROADLOG = """
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
"""

CAMPAIGN_TRACKINGLOG = """
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
"""

CAMPAIGN_QUARANTINE = """
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
"""

CAMPAIGN_PREFERENCES = f"""
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
    delivered_in(changed_at, person_id * 8 + v, 'pref', {LATE_RATE} * 4) as batch,
    recipient_id as "RecipientId",
    -- the extract leaves an email channel empty now and then
    case when channel = 'email' and rnd(person_id * 8 + v, 'pref:ch') < 0.2 then null
        else channel end as "Channel",
    service as "Service",
    case when rnd(person_id * 8 + v, 'pref:fmt') < 0.5 then subscribed::varchar
        else case when subscribed then '1' else '0' end end as "Subscribed",
    iso(ms(changed_at), person_id * 8 + v, 'pref:ts') as "LastModified"
from versions
"""

GROUND_TRUTH = """
select distinct 'crm_id' as namespace, "Id" as identifier, person_id
from crm_contacts where "Id" <> ''
union all
select distinct 'support_id', "Id", person_id from support_contacts where "Id" <> ''
union all
select distinct 'campaign_id', "RecipientId", person_id
from campaign_recipients where "RecipientId" <> ''
"""


def code_of(seed: str, label_column: str, code_column: str, expression: str) -> str:
    """SQL giving Campaign's numeric code of a label, as the project's seed lists it
    (the seeds are the one place Campaign's vocabulary is written down)."""
    with (project_dir() / "seeds" / f"{seed}.csv").open(newline="") as handle:
        pairs = [(row[label_column], row[code_column]) for row in csv.DictReader(handle)]
    whens = " ".join(f"when {literal(label)} then {literal(code)}" for label, code in pairs)
    return f"(case {expression} {whens} end)"


def build_tables(con: duckdb.DuckDBPyConnection, contacts: int, batches: int) -> None:
    con.execute(people_sql(contacts))
    codes = {
        "$status_codes": code_of("campaign_delivery_statuses", "status_label", "status_code",
                                 "status_label"),
        "$failure_type_codes": code_of("campaign_failure_types", "failure_type_label",
                                       "failure_type_code", "failure_type"),
        "$failure_reason_codes": code_of("campaign_failure_reasons", "reason_label",
                                         "reason_code", "failure_reason"),
    }
    for statement in (CRM_CONTACTS, CRM_PURCHASES, SUPPORT_CONTACTS, SUPPORT_TICKETS,
                      CAMPAIGN_RECIPIENTS, DELIVERIES, CAMPAIGN_BROADLOG,
                      CAMPAIGN_TRACKINGLOG, CAMPAIGN_QUARANTINE, CAMPAIGN_PREFERENCES):
        statement = (statement.replace("$batches", str(batches))
                     .replace("$urls", sql_list(URLS))
                     .replace("$history_deliveries", str(HISTORY_DELIVERIES)))
        for placeholder, sql in codes.items():
            statement = statement.replace(placeholder, sql)
        con.execute(statement)


def add_messy_records(con: duckdb.DuckDBPyConnection, contacts: int) -> None:
    """Records staging cannot use: a copy without its key, a copy with a bad timestamp,
    and exact re-deliveries. They are extra rows, so the real data stays complete."""
    per_table = max(1, contacts // 2000)
    for (source, entity), (key, timestamp) in KEY_AND_TIMESTAMP.items():
        table = f"{source}_{entity}"
        con.execute(f"""
            insert into {table} by name
            select * replace (null as "{key}")
            from {table} order by hash({table}, 'nokey') limit {per_table}
        """)
        con.execute(f"""
            insert into {table} by name
            select * replace (pick(['not a date', '2026-02-30T10:00:00Z', '31/12/2025'],
                hash("{key}"), 'badts') as "{timestamp}")
            from {table} where "{key}" <> ''
            order by hash({table}, 'badts') limit {per_table}
        """)
        con.execute(f"""
            insert into {table} by name
            select * from {table} where "{key}" <> ''
            order by hash({table}, 'again') limit {per_table * 5}
        """)


def batch_times(first_extract: datetime, batches: int) -> list[datetime]:
    return [first_extract + timedelta(days=k) for k in range(batches)]


def header_for(source: str, entity: str, batch: int) -> list[tuple[str, str]]:
    """(value column, header name) pairs: later CRM contact files drift in schema."""
    columns = [(name, name) for name in ENTITY_COLUMNS[(source, entity)]]
    if (source, entity) == ("crm", "contacts") and batch >= 2:
        columns = [(name, name.lower()) for name in reversed(ENTITY_COLUMNS[(source, entity)])]
        if batch >= 3:
            columns.append(("'NL'", "Country"))
    return columns


def write_file(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]],
    batch: int, path: Path, file_format: str,
) -> int:
    select = ", ".join(
        (value if value.startswith("'") else f'"{value}"') + f' as "{header}"'
        for value, header in columns
    )
    options = {
        "csv": "format csv, header true, delimiter ','",
        "jsonl": "format json",
        "parquet": "format parquet",
    }[file_format]
    query = f'select {select} from {table} where batch = {batch} order by all'
    con.execute(f"copy ({query}) to '{path}' ({options})")
    return con.execute(f"select count(*) from {table} where batch = {batch}").fetchone()[0]


def append_bytes(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def add_file_mess(files: dict[tuple[str, str, int], Path], batches: int, file_format: str) -> None:
    """Landing mess that only a file can carry: malformed lines, BOM and CRLF."""
    last = batches
    if file_format == "csv":
        contacts = files[("crm", "contacts", 1)]
        append_bytes(
            contacts,
            b"CRM-99999991,too@many.example.com,Too,Many,1 Road,+1,false,"
            b"2026-01-01T00:00:00Z,surplus\n"
            b"CRM-99999992,missing@fields.example.com\n"
            b"CRM-99999993,bad\xff\xfeutf8@example.com,Bad,Bytes,1 Road,+1,false,"
            b"2026-01-01T00:00:00Z\n",
        )
        # A truncated extract: the last record opens a quote that never closes.
        append_bytes(
            files[("support", "tickets", last)],
            b'TIC-99999999-0,SUP-99999999,"Truncated subject, never closed,New,'
            b"2026-01-01T00:00:00Z,2026-01-01T00:00:00Z\n",
        )
        # An export from a Windows tool: byte order mark and CRLF line ends.
        windows = files[("support", "contacts", min(2, last))]
        windows.write_bytes(b"\xef\xbb\xbf" + windows.read_bytes().replace(b"\n", b"\r\n"))
    elif file_format == "jsonl":
        append_bytes(
            files[("crm", "contacts", 1)],
            b'{"Id": "CRM-99999991", "Email": "cut@off.example.com", "LastMod\n'
            b"[1, 2, 3]\n",
        )


def generate(
    root: Path,
    contacts: int = 2000,
    seed: int = 42,
    batches: int = 4,
    file_format: str = "csv",
    first_extract: datetime = DEFAULT_FIRST_EXTRACT,
) -> GenerateReport:
    if contacts < 1:
        raise CdpError("--contacts must be at least 1")
    if batches < 1:
        raise CdpError("--batches must be at least 1")
    if file_format not in ("csv", "jsonl", "parquet"):
        raise CdpError(f"unknown format '{file_format}' (expected csv, jsonl or parquet)")
    writable_folder(root)
    report = GenerateReport(root)
    t1 = first_extract.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    con = duckdb.connect(config=duckdb_config())
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    # Writing in a stable order keeps files byte-identical for a seed.
    con.execute("set preserve_insertion_order = true")
    define_macros(con, seed, batches, t1)
    build_tables(con, contacts, batches)
    add_messy_records(con, contacts)

    files: dict[tuple[str, str, int], Path] = {}
    extension = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}[file_format]
    for (source, entity) in ENTITY_COLUMNS:
        folder = root / source / entity
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for batch, extracted_at in enumerate(batch_times(first_extract, batches), start=1):
            stamp = extracted_at.strftime("%Y%m%dT%H%M%SZ")
            path = folder / f"{entity}_{stamp}.{extension}"
            rows = write_file(
                con, f"{source}_{entity}", header_for(source, entity, batch), batch, path,
                file_format,
            )
            files[(source, entity, batch)] = path
            report.files.append((f"{source}/{entity}", path.relative_to(root).as_posix(), rows))
    add_file_mess(files, batches, file_format)

    truth = root / "_truth"
    truth.mkdir(exist_ok=True)
    con.execute(f"copy ({GROUND_TRUTH} order by all) to '{truth / 'identities.parquet'}' "
                "(format parquet)")
    (truth / "generation.json").write_text(json.dumps(
        {"contacts": contacts, "seed": seed, "batches": batches, "format": file_format,
         "first_extract": first_extract.isoformat()}, indent=2) + "\n")
    con.close()
    return report
