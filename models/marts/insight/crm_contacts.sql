-- Insight contact properties from the CRM: the latest version of every contact
-- that is not deleted. A deletion later than the contact's version removes the
-- row.

-- depends_on: {{ ref('crm_contact_deletions') }}

{{ config(post_hook="{{ remove_deleted_contacts() }}") }}

with

state as (
    {{ incremental_state() }}
),

contacts as (
    select * from {{ ref('int_crm_contacts_current') }}
    where {{ landed_since_last_run('_hwm_load_id') }}
),

mapped as (
    select
        {{ insight_columns('crm_contacts') }},
        _source_key,
        _version_at,
        _load_id,
        _row_number,
        {{ run_columns(
            '(select max(read._hwm_load_id) from contacts as read)'
        ) }}
    from contacts
    where not is_deleted
),

changed as (
    {{ changed_rows('mapped', insight_column_names('crm_contacts')) }}
)

select * from changed
