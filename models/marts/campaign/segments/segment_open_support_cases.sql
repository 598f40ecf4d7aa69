-- People with an open support ticket (var support_open_statuses).

with

tickets as (
    select * from {{ ref('int_support_tickets_current') }}
),

identities as (
    select * from {{ ref('identities') }}
    where namespace = 'support_id'
),

members as (
    select distinct identities.contact_key
    from tickets
    inner join identities on tickets.submitted_by_id = identities.identifier
    where tickets.status in ({{ text_values(var('support_open_statuses')) }})
)

select * from members
