-- Insight contact properties from Adobe Campaign: the latest version of every
-- recipient. They carry the Email that maps Campaign's records (the email
-- events) to Insight's unified contact.

with

state as (
    {{ incremental_state() }}
),

current_recipients as (
    select * from {{ ref('int_campaign_recipients_current') }}
    where {{ landed_since_last_run('_hwm_load_id') }}
),

mapped as (
    select
        {{ insight_columns('campaign_recipients') }},
        _source_key,
        _version_at,
        _load_id,
        _row_number,
        {{ run_columns(
            '(select max(read._hwm_load_id) from current_recipients as read)'
        ) }}
    from current_recipients
),

changed as (
    {{ changed_rows('mapped', insight_column_names('campaign_recipients')) }}
)

select * from changed
