-- Campaign non-deliverable addresses; the error reason decoded to Campaign's
-- failure-reason label and code (seed), whichever form the extract carries.

with

source as (
    {{ usable_records('campaign', 'quarantine') }}
),

failure_reasons as (
    {{ campaign_vocabulary(
        'campaign_failure_reasons', 'reason_label', 'reason_code'
    ) }}
),

renamed as (
    select
        {{ normalize_email('address') }} as address,
        {{ clean_text('status') }} as status,
        {{ clean_text('errorreason') }} as error_reason_text,
        {{ clean_text('errortext') }} as error_text,
        try_cast(trim(errorcount) as integer) as error_count,
        {{ source_timestamp('lastmodified', 'campaign') }} as last_modified_at,
        {{ landed_columns() }}
    from source
),

decoded as (
    select
        renamed.address,
        renamed.status,
        coalesce(failure_reasons.reason_label, renamed.error_reason_text)
            as error_reason,
        failure_reasons.reason_code as error_reason_code,
        renamed.error_text,
        renamed.error_count,
        renamed.last_modified_at,
        {{ landed_columns_of('renamed') }}
    from renamed
    left join failure_reasons
        on lower(renamed.error_reason_text) = failure_reasons.vocabulary_key
)

select * from decoded
