-- Insight interactions "Support Case": the latest version of every ticket, with
-- its submitter's current email. A submitter who arrives, or changes email,
-- after the ticket was written updates the ticket's row.

with

state as (
    {{ incremental_state() }}
),

tickets_read as (
    select * from {{ ref('stg_support__tickets') }}
    where {{ landed_since_last_run() }}
),

submitters_read as (
    select * from {{ ref('stg_support__contacts') }}
    where {{ landed_since_last_run() }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
    {%- if is_incremental() %}
    -- every version of the tickets that arrived, and of the tickets whose
    -- submitter arrived or changed
    where
        ticket_id in (
            select tickets_read.ticket_id from tickets_read
            union all
            select held._source_key from {{ this }} as held
            where held._submitted_by_id in (
                select submitters_read.support_contact_id from submitters_read
            )
        )
    {%- endif %}
),

latest_tickets as (
    select
        *,
        {{ version_columns(
            'ticket_id', 'coalesce(last_modified_at, created_at)'
        ) }}
    from tickets
    qualify {{ is_latest_version(
        'ticket_id', 'coalesce(last_modified_at, created_at)'
    ) }}
),

submitter_emails as (
    select
        support_contact_id,
        email as submitter_email
    from {{ ref('stg_support__contacts') }}
    where
        support_contact_id in (
            select latest_tickets.submitted_by_id from latest_tickets
        )
    qualify {{ is_latest_version('support_contact_id', 'last_modified_at') }}
),

with_email as (
    select
        latest_tickets.*,
        submitter_emails.submitter_email
    from latest_tickets
    left join submitter_emails
        on latest_tickets.submitted_by_id = submitter_emails.support_contact_id
),

mapped as (
    select
        {{ insight_columns('support_tickets') }},
        _source_key,
        _version_at,
        _load_id,
        _row_number,
        submitted_by_id as _submitted_by_id,
        {{ run_columns(
            'greatest((select max(load_id) from tickets_read),'
            ~ ' (select max(load_id) from submitters_read))'
        ) }}
    from with_email
),

changed as (
    {{ changed_rows('mapped', insight_column_names('support_tickets')) }}
)

select * from changed
