-- Reference data for Campaign's personalization: every product paid for, with
-- how many paid purchases it has and the latest payment.

{{ config(materialized='table') }}

with

purchases as (
    select * from {{ ref('interactions') }}
    where import_type = 'crm_purchases'
),

final as (
    select
        object_label as "ProductName",
        count(*) as "PaidPurchases",
        max(interaction_at) as "LastPaidOn"
    from purchases
    where object_label is not null
    group by object_label
)

select * from final
