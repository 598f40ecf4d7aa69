-- Simplified profile data for Campaign's import workflow: one row per recipient
-- Campaign already has, keyed by RecipientId, with the golden-record values of
-- profile.contacts that var campaign_profile_attributes names.

{{ config(materialized='table') }}

with

recipients as (
    select * from {{ ref('recipient_contacts') }}
),

contacts as (
    select * from {{ ref('contacts') }}
),

final as (
    select
        recipients.recipient_id as "RecipientId",
        {%- for field, column in var('campaign_profile_attributes').items() %}
        contacts.{{ column }} as "{{ field }}"
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from recipients
    left join contacts on recipients.contact_key = contacts.contact_key
)

select * from final
