-- Insight interactions from Campaign: messages sent and bounced (broadLog),
-- opened and clicked (trackingLog). Each is an event once: its key is the log
-- id and the event type. A trackingLog row that arrived before its delivery's
-- label gets the label once the delivery is known.

with

state as (
    {{ incremental_state() }}
),

broadlogs_read as (
    select * from {{ ref('stg_campaign__broadlogs') }}
    where {{ landed_since_last_run() }}
),

trackinglogs_read as (
    select * from {{ ref('stg_campaign__trackinglogs') }}
    where {{ landed_since_last_run() }}
),

deliveries as (
    select * from {{ ref('int_campaign_deliveries') }}
),

message_events as (
    select
        case status when 'Failed' then 'bounced' else 'sent' end as event_type,
        broadlog_id as log_id,
        recipient_id,
        delivery_id,
        delivery_label,
        event_at,
        load_id,
        source_row_number
    from broadlogs_read
    where status in ('Sent', 'Delivered', 'Failed')
),

trackinglog_events as (
    select
        case tracking_type when 'Open' then 'opened' else 'clicked' end
            as event_type,
        trackinglog_id as log_id,
        recipient_id,
        delivery_id,
        logged_at as event_at,
        load_id,
        source_row_number
    from trackinglogs_read
    where tracking_type in ('Open', 'Click')
    {%- if is_incremental() %}
    union all
    -- trackingLog events written with another label than their delivery has
    -- now (unknown then): the same event again, to be relabelled
    select
        held._event_type,
        held._log_id,
        held._recipient_id,
        held._delivery_id,
        held._version_at,
        held._load_id,
        held._row_number
    from {{ this }} as held
    inner join deliveries on held._delivery_id = deliveries.delivery_id
    where
        held._event_type in ('opened', 'clicked')
        and held._delivery_id in (
            select broadlogs_read.delivery_id from broadlogs_read
        )
        and held._delivery_label is distinct from deliveries.delivery_label
    {%- endif %}
),

tracking_events as (
    select
        trackinglog_events.event_type,
        trackinglog_events.log_id,
        trackinglog_events.recipient_id,
        trackinglog_events.delivery_id,
        deliveries.delivery_label,
        trackinglog_events.event_at,
        trackinglog_events.load_id,
        trackinglog_events.source_row_number
    from trackinglog_events
    left join deliveries
        on trackinglog_events.delivery_id = deliveries.delivery_id
),

events as (
    select
        'broadlog:' || log_id || ':' || event_type as event_key,
        *
    from message_events
    union all
    select
        'trackinglog:' || log_id || ':' || event_type as event_key,
        *
    from tracking_events
),

latest as (
    select
        *,
        {{ version_columns('event_key', 'event_at') }}
    from events
    qualify {{ is_latest_version('event_key', 'event_at') }}
),

mapped as (
    select
        {{ insight_columns('campaign_email_events') }},
        _source_key,
        _version_at,
        _load_id,
        _row_number,
        event_type as _event_type,
        log_id as _log_id,
        recipient_id as _recipient_id,
        delivery_id as _delivery_id,
        delivery_label as _delivery_label,
        {{ run_columns(
            'greatest((select max(load_id) from broadlogs_read),'
            ~ ' (select max(load_id) from trackinglogs_read))'
        ) }}
    from latest
),

changed as (
    {{ changed_rows('mapped', insight_column_names('campaign_email_events')) }}
)

select * from changed
