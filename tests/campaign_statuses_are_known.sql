-- broadLog messages whose status is not in the seed
-- campaign_delivery_statuses: kept, mapped to no event, counted here as a
-- warning (never a failure: a new Campaign status must not stop the build).
-- Add the status to the seed.
{{ config(severity='warn') }}

select
    broadlog_id,
    status
from {{ ref('broad_log') }}
where is_unknown_status
