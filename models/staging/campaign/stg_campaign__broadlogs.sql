-- Campaign broadLog, decoded with Campaign's own vocabulary (seeds): a status,
-- failure type or failure reason arrives as a label or as a numeric code and
-- leaves as the label. A status the seed does not know keeps its row, is
-- flagged and maps to no event.

with

source as (
    {{ usable_records('campaign', 'broadlog') }}
),

statuses as (
    {{ campaign_vocabulary(
        'campaign_delivery_statuses', 'status_label', 'status_code'
    ) }}
),

failure_types as (
    {{ campaign_vocabulary(
        'campaign_failure_types', 'failure_type_label', 'failure_type_code'
    ) }}
),

failure_reasons as (
    {{ campaign_vocabulary(
        'campaign_failure_reasons', 'reason_label', 'reason_code'
    ) }}
),

renamed as (
    select
        {{ clean_text('broadlogid') }} as broadlog_id,
        {{ clean_text('deliveryid') }} as delivery_id,
        {{ clean_text('deliverylabel') }} as delivery_label,
        {{ clean_text('recipientid') }} as recipient_id,
        {{ normalize_email('address') }} as address,
        {{ source_timestamp('eventdate', 'campaign') }} as event_at,
        {{ clean_text('status') }} as status_text,
        {{ clean_text('failuretype') }} as failure_type_text,
        {{ clean_text('failurereason') }} as failure_reason_text,
        {{ landed_columns() }}
    from source
),

decoded as (
    select
        renamed.broadlog_id,
        renamed.delivery_id,
        renamed.delivery_label,
        renamed.recipient_id,
        renamed.address,
        renamed.event_at,
        coalesce(statuses.status_label, renamed.status_text) as status,
        statuses.status_code,
        statuses.outcome as delivery_outcome,
        -- (an empty seed cell means no event)
        case
            when statuses.outcome = 'failed'
                then coalesce(
                    nullif(failure_types.bounce_event_type, ''),
                    nullif(statuses.event_type, '')
                )
            else nullif(statuses.event_type, '')
        end as event_type,
        coalesce(
            renamed.status_text is not null and statuses.status_label is null,
            false
        ) as is_unknown_status,
        coalesce(failure_types.failure_type_label, renamed.failure_type_text)
            as failure_type,
        failure_reasons.reason_code as failure_reason_code,
        coalesce(failure_reasons.reason_label, renamed.failure_reason_text)
            as failure_reason,
        {{ landed_columns_of('renamed') }}
    from renamed
    left join statuses
        on lower(renamed.status_text) = statuses.vocabulary_key
    left join failure_types
        on lower(renamed.failure_type_text) = failure_types.vocabulary_key
    left join failure_reasons
        on lower(renamed.failure_reason_text) = failure_reasons.vocabulary_key
)

select * from decoded
