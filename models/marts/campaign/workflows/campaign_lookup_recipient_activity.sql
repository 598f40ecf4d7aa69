-- Personalization lookup per Campaign recipient: the last paid product and when
-- it was paid, and the person's open support cases with the latest subject.
-- Ties in time are broken by id, so that every build gives the same row.

{{ config(materialized='table') }}

with

recipients as (
    select * from {{ ref('recipient_contacts') }}
),

purchases as (
    select
        contact_key,
        arg_max(object_label, (interaction_at, unique_id)) as last_paid_product,
        max(interaction_at) as last_paid_at
    from {{ ref('interactions') }}
    where import_type = 'crm_purchases'
    group by contact_key
),

support_identities as (
    select * from {{ ref('identities') }}
    where namespace = 'support_id'
),

open_cases as (
    select
        support_identities.contact_key,
        count(*) as open_cases,
        arg_max(tickets.subject, (tickets.created_at, tickets.ticket_id))
            as latest_subject
    from {{ ref('int_support_tickets_current') }} as tickets
    inner join support_identities
        on tickets.submitted_by_id = support_identities.identifier
    where tickets.status in ({{ text_values(var('support_open_statuses')) }})
    group by support_identities.contact_key
),

final as (
    select
        recipients.recipient_id as "RecipientId",
        purchases.last_paid_product as "LastPaidProduct",
        purchases.last_paid_at as "LastPaidOn",
        coalesce(open_cases.open_cases, 0) as "OpenSupportCases",
        open_cases.latest_subject as "LatestOpenCaseSubject"
    from recipients
    left join purchases on recipients.contact_key = purchases.contact_key
    left join open_cases on recipients.contact_key = open_cases.contact_key
)

select * from final
