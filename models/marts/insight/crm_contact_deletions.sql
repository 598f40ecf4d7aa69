-- CRM contacts deleted in the CRM (`IsDeleted`): the latest deletion per
-- contact. crm_contacts drops every contact a later deletion supersedes;
-- exports read this table to tell Insight.

with

state as (
    {{ incremental_state() }}
),

contacts_read as (
    select * from {{ ref('stg_crm__contacts') }}
    where {{ landed_since_last_run() }}
),

deletions as (
    select
        contact_id,
        last_modified_at,
        load_id,
        source_row_number
    from contacts_read
    where is_deleted
    qualify {{ is_latest_version('contact_id', 'last_modified_at') }}
),

versioned as (
    select
        contact_id as "UniqueId",
        last_modified_at as "Timestamp",
        {{ version_columns('contact_id', 'last_modified_at') }}
    from deletions
),

changed as (
    {{ changed_rows('versioned', []) }}
),

final as (
    select
        *,
        {{ run_columns('(select max(load_id) from contacts_read)') }}
    from changed
)

select * from final
