-- Campaign broadLog as experience events: one row per message (its latest
-- version), keyed to contact_key.

with

broadlogs as (
    select * from {{ ref('int_campaign_broadlogs_current') }}
),

identities as (
    select * from {{ ref('identities') }}
    where namespace = 'campaign_id'
),

final as (
    select
        broadlogs.broadlog_id,
        broadlogs.event_at,
        {{ campaign_event_type(broadlog_status='broadlogs.status') }}
            as event_type,
        broadlogs.recipient_id,
        identities.contact_key,
        broadlogs.address,
        broadlogs.delivery_id,
        broadlogs.delivery_label,
        broadlogs.status,
        broadlogs.failure_type,
        broadlogs.failure_reason,
        broadlogs._load_id as load_id,
        broadlogs._row_number as source_row_number,
        broadlogs._hwm_load_id
    from broadlogs
    left join identities on broadlogs.recipient_id = identities.identifier
)

select * from final
