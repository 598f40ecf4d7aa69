-- Campaign's non-deliverable addresses: the latest state of every address in
-- the quarantine list, keyed to contact_key, as delivery-feedback events.
-- Quarantine and Denylisted addresses are suppressed from every segment.

with

quarantines as (
    select * from {{ ref('stg_campaign__quarantines') }}
    qualify {{ is_latest_version('address', 'last_modified_at') }}
),

identities as (
    select * from {{ ref('identities') }}
    where namespace = 'email'
),

final as (
    select
        {{ campaign_event_id("'quarantine'", 'quarantines.address',
            "strftime(quarantines.last_modified_at, '%Y%m%dT%H%M%S.%g')") }}
            as event_id,
        quarantines.last_modified_at as event_at,
        'delivery.feedback' as event_type,
        quarantines.address,
        identities.contact_key,
        'email' as channel,
        quarantines.status,
        quarantines.error_reason_code as failure_reason_code,
        quarantines.error_reason as failure_reason,
        quarantines.error_text,
        quarantines.error_count,
        quarantines.status in ('Quarantine', 'Denylisted') as is_suppressing
    from quarantines
    left join identities on quarantines.address = identities.identifier
)

select * from final
