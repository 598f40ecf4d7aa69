-- Every version of a Campaign preference as an event for the platform side
-- (`cdp export campaign-logs`, per closed window): the consent value of its
-- channel, and directMarketing.emailUnsubscribed for an email opt-out.

with

preferences as (
    select * from {{ ref('stg_campaign__preferences') }}
    where is_subscribed is not null
    qualify row_number() over (
        partition by recipient_id, channel, service, last_modified_at
        order by load_id desc, source_row_number desc
    ) = 1
),

identities as (
    select * from {{ ref('identities') }}
    where namespace = 'campaign_id'
),

final as (
    select
        {{ campaign_event_id("'preference'", dbt.concat([
            'preferences.recipient_id', "':'", 'preferences.channel', "':'",
            "coalesce(preferences.service, '')"]),
            "strftime(preferences.last_modified_at, '%Y%m%dT%H%M%S.%g')") }}
            as event_id,
        preferences.last_modified_at as event_at,
        case
            when preferences.channel = 'email' and not preferences.is_subscribed
                then 'directMarketing.emailUnsubscribed'
        end as event_type,
        preferences.recipient_id,
        identities.contact_key,
        preferences.channel,
        preferences.service,
        preferences.is_subscribed,
        {%- for channel in ['email', 'sms', 'push'] %}
        case
            when preferences.channel = '{{ channel }}'
                then case when preferences.is_subscribed then 'y' else 'n' end
        end as consent_{{ channel }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from preferences
    left join identities on preferences.recipient_id = identities.identifier
)

select * from final
