-- Insight interactions "Support Case": the latest version of every ticket, with
-- its submitter's current email. A submitter who arrives, or changes email,
-- after the ticket was written updates the ticket's row.

with

state as (
    {{ incremental_state() }}
),

tickets as (
    select * from {{ ref('int_support_tickets_current') }}
),

submitters as (
    select * from {{ ref('int_support_contacts_current') }}
),

changed_submitters as (
    select submitters.support_contact_id from submitters
    where {{ landed_since_last_run('submitters._hwm_load_id') }}
),

-- tickets that changed, and tickets whose submitter arrived or changed (on a
-- full refresh, all)
tickets_to_write as (
    select tickets.* from tickets
    where
        {{ landed_since_last_run('tickets._hwm_load_id') }}
        or tickets.submitted_by_id in (
            select changed_submitters.support_contact_id
            from changed_submitters
        )
),

with_email as (
    select
        tickets_to_write.*,
        submitters.email as submitter_email
    from tickets_to_write
    left join submitters
        on tickets_to_write.submitted_by_id = submitters.support_contact_id
),

mapped as (
    select
        {{ insight_columns('support_tickets') }},
        _source_key,
        _version_at,
        _load_id,
        _row_number,
        _first_landed,
        submitted_by_id as _submitted_by_id,
        {{ run_columns(
            'greatest((select max(tickets._hwm_load_id) from tickets),'
            ~ ' (select max(submitters._hwm_load_id) from submitters))'
        ) }}
    from with_email
),

changed as (
    {{ changed_rows('mapped', insight_column_names('support_tickets')) }}
)

select * from changed
