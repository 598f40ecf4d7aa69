-- People who bought something in the last var segment_recent_purchase_days
-- days (before var segments_as_of, by default the latest interaction).

with

purchases as (
    select * from {{ ref('interactions') }}
    where import_type = 'crm_purchases'
),

members as (
    select distinct contact_key
    from purchases
    where
        contact_key is not null
        and interaction_at >= {{ segments_as_of() }}
        - to_days({{ var('segment_recent_purchase_days') }})
)

select * from members
