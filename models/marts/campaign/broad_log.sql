-- Campaign broadLog as experience events: one row per message (its latest
-- version), keyed to contact_key, with the XDM event type its status (and, for
-- a failure, its failure type) maps to through the seeds.

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
        {{ campaign_event_id("'broadlog'", 'broadlogs.broadlog_id',
            'broadlogs.event_type', 'broadlogs.status') }} as event_id,
        broadlogs.event_at,
        broadlogs.event_type,
        broadlogs.broadlog_id,
        broadlogs.recipient_id,
        identities.contact_key,
        broadlogs.address,
        {{ campaign_channel('broadlogs.address') }} as channel,
        broadlogs.delivery_id,
        broadlogs.delivery_label,
        broadlogs.status,
        broadlogs.status_code,
        broadlogs.delivery_outcome,
        broadlogs.is_unknown_status,
        broadlogs.failure_type,
        broadlogs.failure_reason_code,
        broadlogs.failure_reason,
        broadlogs._load_id as load_id,
        broadlogs._row_number as source_row_number,
        broadlogs._hwm_load_id,
        broadlogs._written_at
    from broadlogs
    left join identities on broadlogs.recipient_id = identities.identifier
)

select * from final
