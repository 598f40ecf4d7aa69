-- Insight interactions from Campaign, read from the Campaign log views:
-- messages sent and bounced (campaign.broad_log), opened and clicked
-- (campaign.tracking_log): the event types the mapping's Predicate names. Each
-- is an event once: its key is the log id and the event type. A trackingLog row
-- that arrived before its delivery's label gets the label once the delivery is
-- known.

{%- set mapped_event_types = insight_import_type('campaign_email_events')
    .columns.Predicate.texts.keys() | list %}

with

state as (
    {{ incremental_state() }}
),

broad_log_read as (
    select * from {{ ref('broad_log') }}
    where {{ landed_since_last_run('_hwm_load_id') }}
),

tracking_log_read as (
    select * from {{ ref('tracking_log') }}
    where {{ landed_since_last_run('_hwm_load_id') }}
),

deliveries as (
    select * from {{ ref('int_campaign_deliveries') }}
),

-- Where each event first landed: the first version of its log record with
-- that event type, among the versions landed since the last run (a row
-- written before keeps what it holds).
first_landings as (
    select
        'broadlog:' || broadlog_id || ':' || event_type as event_key,
        min({{ landing_position() }}) as first_landed
    from {{ ref('stg_campaign__broadlogs') }}
    where {{ landed_since_last_run() }}
    group by all
    union all
    select
        'trackinglog:' || trackinglog_id || ':' || event_type as event_key,
        min({{ landing_position() }}) as first_landed
    from {{ ref('stg_campaign__trackinglogs') }}
    where {{ landed_since_last_run() }}
    group by all
),

message_events as (
    select
        event_type,
        broadlog_id as log_id,
        recipient_id,
        delivery_id,
        delivery_label,
        event_at,
        load_id,
        source_row_number
    from broad_log_read
    where event_type in ({{ text_values(mapped_event_types) }})
),

trackinglog_events as (
    select
        event_type,
        trackinglog_id as log_id,
        recipient_id,
        delivery_id,
        event_at,
        load_id,
        source_row_number
    from tracking_log_read
    where event_type in ({{ text_values(mapped_event_types) }})
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
        held._event_type in ({{ text_values(mapped_event_types) }})
        and held._delivery_id in (
            select broad_log_read.delivery_id from broad_log_read
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
        events.*,
        {{ version_columns('events.event_key', 'event_at') }},
        first_landings.first_landed as _first_landed
    from events
    left join first_landings on events.event_key = first_landings.event_key
    qualify {{ is_latest_version('events.event_key', 'event_at') }}
),

mapped as (
    select
        {{ insight_columns('campaign_email_events') }},
        _source_key,
        _version_at,
        _load_id,
        _row_number,
        _first_landed,
        event_type as _event_type,
        log_id as _log_id,
        recipient_id as _recipient_id,
        delivery_id as _delivery_id,
        delivery_label as _delivery_label,
        {{ run_columns(
            'greatest((select max(broad_log_read._hwm_load_id) from broad_log_read),'
            ~ ' (select max(tracking_log_read._hwm_load_id)'
            ~ ' from tracking_log_read))'
        ) }}
    from latest
),

changed as (
    {{ changed_rows('mapped', insight_column_names('campaign_email_events')) }}
)

{{ keep_first_landed('changed') }}
