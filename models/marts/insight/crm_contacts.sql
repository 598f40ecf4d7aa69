-- Insight contact properties from the CRM: the latest version of every contact
-- that is not deleted. A deletion later than the contact's version removes the
-- row.

{{ config(post_hook="{{ remove_deleted_contacts() }}") }}

with

state as (
    {{ incremental_state() }}
),

contacts_read as (
    select * from {{ ref('stg_crm__contacts') }}
    where {{ landed_since_last_run() }}
),

deletions as (
    select * from {{ ref('crm_contact_deletions') }}
),

latest as (
    select
        *,
        {{ version_columns('contact_id', 'last_modified_at') }}
    from contacts_read
    where not is_deleted
    qualify {{ is_latest_version('contact_id', 'last_modified_at') }}
),

not_deleted as (
    select latest.* from latest
    left join deletions as deleted on latest._source_key = deleted._source_key
    where
        deleted._source_key is null
        or not {{ is_later_version('deleted', 'latest') }}
),

mapped as (
    select
        {{ insight_columns('crm_contacts') }},
        _source_key,
        _version_at,
        _load_id,
        _row_number,
        {{ run_columns('(select max(load_id) from contacts_read)') }}
    from not_deleted
),

changed as (
    {{ changed_rows('mapped', insight_column_names('crm_contacts')) }}
)

select * from changed
