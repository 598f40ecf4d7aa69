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

{% if is_incremental() %}
-- trackingLog rows written with another label than their delivery's label now
tracking_to_relabel as (
    select held._source_key
    from {{ this }} as held
    inner join deliveries on held._delivery_id = deliveries.delivery_id
    where
        held._source_key like 'trackinglog:%'
        and held._delivery_id in (
            select broadlogs_read.delivery_id from broadlogs_read
        )
        and held._delivery_label is distinct from deliveries.delivery_label
),
{% endif %}

trackinglogs as (
    select * from trackinglogs_read
    {%- if is_incremental() %}
    union all
    select relabelled.*
    from {{ ref('stg_campaign__trackinglogs') }} as relabelled
    where
        'trackinglog:' || relabelled.trackinglog_id || ':'
        || case relabelled.tracking_type
            when 'Open' then 'opened' else 'clicked'
        end
        in (select tracking_to_relabel._source_key from tracking_to_relabel)
    {%- endif %}
),

tracking_events as (
    select
        case trackinglogs.tracking_type
            when 'Open' then 'opened' else 'clicked'
        end as event_type,
        trackinglogs.trackinglog_id as log_id,
        trackinglogs.recipient_id,
        trackinglogs.delivery_id,
        deliveries.delivery_label,
        trackinglogs.logged_at as event_at,
        trackinglogs.load_id,
        trackinglogs.source_row_number
    from trackinglogs
    left join deliveries on trackinglogs.delivery_id = deliveries.delivery_id
    where trackinglogs.tracking_type in ('Open', 'Click')
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
