-- Every source record that carries an identity: current CRM contacts (not
-- deleted), Support contacts and Campaign recipients, with the attributes the
-- golden record is built from, and the load id clock of the run that last
-- changed it (_hwm_load_id), so the profile finds the records changed since.
--
-- Incremental: a build reads the current versions changed since the last one;
-- a CRM contact deleted since is written as deleted and removed by the
-- post-hook.

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['namespace', 'identifier'],
    on_schema_change='fail',
    post_hook="delete from {{ this }} where is_deleted",
) }}

with

state as (
    {{ incremental_state(watermark=none) }}
),

crm_contacts as (
    select * from {{ ref('int_crm_contacts_current') }}
    where {{ landed_since_last_run('_hwm_load_id') }}
),

support_contacts as (
    select * from {{ ref('int_support_contacts_current') }}
    where {{ landed_since_last_run('_hwm_load_id') }}
),

campaign_recipients as (
    select * from {{ ref('int_campaign_recipients_current') }}
    where {{ landed_since_last_run('_hwm_load_id') }}
),

records as (
    select
        'crm' as source_name,
        'crm_id' as namespace,
        contact_id as identifier,
        email,
        first_name,
        last_name,
        address,
        phone,
        cast(null as varchar) as crm_contact_id,
        last_modified_at,
        _first_landed as first_landed,
        _hwm_load_id,
        is_deleted
    from crm_contacts
    union all
    select
        'support' as source_name,
        'support_id' as namespace,
        support_contact_id as identifier,
        email,
        split_part(full_name, ' ', 1) as first_name,
        nullif(
            trim(substr(full_name, length(split_part(full_name, ' ', 1)) + 1)),
            ''
        ) as last_name,
        null as address,
        null as phone,
        null as crm_contact_id,
        last_modified_at,
        _first_landed as first_landed,
        _hwm_load_id,
        false as is_deleted
    from support_contacts
    union all
    select
        'campaign' as source_name,
        'campaign_id' as namespace,
        recipient_id as identifier,
        email,
        first_name,
        last_name,
        null as address,
        null as phone,
        crm_contact_id,
        last_modified_at,
        _first_landed as first_landed,
        _hwm_load_id,
        false as is_deleted
    from campaign_recipients
)

select * from records
