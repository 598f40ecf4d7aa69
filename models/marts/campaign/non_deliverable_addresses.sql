-- Campaign's non-deliverable addresses: the latest state of every address in
-- the quarantine list, keyed to contact_key. Quarantine and Denylisted
-- addresses are suppressed from every segment.

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
        quarantines.address,
        quarantines.last_modified_at as event_at,
        'message.quarantine' as event_type,
        identities.contact_key,
        quarantines.status,
        quarantines.error_reason as failure_reason,
        quarantines.error_text,
        quarantines.error_count,
        quarantines.status in ('Quarantine', 'Denylisted') as is_suppressing
    from quarantines
    left join identities on quarantines.address = identities.identifier
)

select * from final
