-- Insight contact properties from Adobe Campaign: the latest version of every
-- recipient. They carry the Email that maps Campaign's records (the email
-- events) to Insight's unified contact.

with

state as (
    {{ incremental_state() }}
),

recipients_read as (
    select * from {{ ref('stg_campaign__recipients') }}
    where {{ landed_since_last_run() }}
),

latest as (
    select
        *,
        {{ version_columns('recipient_id', 'last_modified_at') }}
    from recipients_read
    qualify {{ is_latest_version('recipient_id', 'last_modified_at') }}
),

mapped as (
    select
        {{ insight_columns('campaign_recipients') }},
        _source_key,
        _version_at,
        _load_id,
        _row_number,
        {{ run_columns('(select max(load_id) from recipients_read)') }}
    from latest
),

changed as (
    {{ changed_rows('mapped', insight_column_names('campaign_recipients')) }}
)

select * from changed
