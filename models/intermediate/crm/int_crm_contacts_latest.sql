-- The latest version of every CRM contact, deletions included: what the
-- snapshot crm_contacts_snapshot records history of.

{{ config(materialized='view') }}

with

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

latest as (
    select
        contact_id,
        email,
        first_name,
        last_name,
        address,
        phone,
        is_deleted,
        last_modified_at,
        load_id
    from contacts
    qualify {{ is_latest_version('contact_id', 'last_modified_at') }}
)

select * from latest
