-- People who opened or clicked a Campaign email but never bought anything.

with

interactions as (
    select * from {{ ref('interactions') }}
    where contact_key is not null
),

engaged as (
    select distinct contact_key from interactions
    where predicate in ('Email Opened', 'Email Clicked')
),

purchasers as (
    select distinct contact_key from interactions
    where import_type = 'crm_purchases'
),

members as (
    select engaged.contact_key from engaged
    where
        engaged.contact_key not in (
            select purchasers.contact_key from purchasers
        )
)

select * from members
