-- Every source record that carries an identity: current CRM contacts (not
-- deleted), Support contacts and Campaign recipients, with the attributes the
-- golden record is built from, and the load id clock of the run that last
-- changed it (_hwm_load_id), so the profile finds the records changed since.

{{ config(materialized='table') }}

with

crm_contacts as (
    select * from {{ ref('int_crm_contacts_current') }}
    where not is_deleted
),

support_contacts as (
    select * from {{ ref('int_support_contacts_current') }}
),

campaign_recipients as (
    select * from {{ ref('int_campaign_recipients_current') }}
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
        _hwm_load_id
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
        _hwm_load_id
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
        _hwm_load_id
    from campaign_recipients
)

select * from records
