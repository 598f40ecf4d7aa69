-- One row per Campaign delivery with its label, from the broadLog. TrackingLog
-- rows carry no label and look it up here. A delivery's label is the smallest
-- label seen for it, so the result does not depend on the order of arrival.

{{ config(materialized='incremental', unique_key='delivery_id') }}

with

state as (
    {{ incremental_state(watermark=none) }}
),

broadlogs_read as (
    select * from {{ ref('stg_campaign__broadlogs') }}
    where {{ landed_since_last_run() }}
),

labels_read as (
    select
        delivery_id,
        min(delivery_label) as delivery_label
    from broadlogs_read
    where delivery_id is not null
    group by delivery_id
),

{% if is_incremental() -%}
merged as (
    select
        incoming.delivery_id,
        held.delivery_label as previous_label,
        coalesce(
            least(incoming.delivery_label, held.delivery_label),
            incoming.delivery_label,
            held.delivery_label
        ) as delivery_label
    from labels_read as incoming
    left join {{ this }} as held
        on incoming.delivery_id = held.delivery_id
),
{%- else -%}
merged as (
    select
        delivery_id,
        delivery_label,
        cast(null as varchar) as previous_label
    from labels_read
),
{%- endif %}

final as (
    select
        merged.delivery_id,
        merged.delivery_label,
        '{{ invocation_id }}' as _invocation_id,
        (
            select max(broadlogs_read.load_id) from broadlogs_read
        ) as _hwm_load_id
    from merged
    where merged.delivery_label is distinct from merged.previous_label
)

select * from final
