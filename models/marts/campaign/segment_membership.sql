-- Per segment and Campaign recipient: realized (a member not in the segment's
-- last export), existing (a member that was exported), or exited (exported,
-- no longer a member), with when the status last changed. Suppressed
-- recipients (blacklisted, quarantined, denylisted, opted out of email) are
-- never members.

{{ config(materialized='table') }}

{%- set previous = adapter.get_relation(
    this.database, this.schema, this.identifier
) if execute else none %}

with

candidates as (
    select * from {{ ref('segment_candidates') }}
),

exported as (
    select * from {{ ref('stg_cdp_state__segment_export_members') }}
),

members as (
    select * from candidates
    where suppressed_because is null
),

statuses as (
    select
        coalesce(members.segment_id, exported.segment_id) as segment_id,
        coalesce(members.recipient_id, exported.recipient_id) as recipient_id,
        members.segment_name,
        members.contact_key,
        members.email,
        {{ segment_status('members', 'exported') }} as status,
        exported.exported_at
    from members
    full outer join exported
        on
            members.segment_id = exported.segment_id
            and members.recipient_id = exported.recipient_id
),

{% if previous is not none -%}
previous_statuses as (
    select * from {{ previous }}
),
{%- else -%}
previous_statuses as (
    select
        cast(null as varchar) as segment_id,
        cast(null as varchar) as recipient_id,
        cast(null as varchar) as segment_name,
        cast(null as varchar) as contact_key,
        cast(null as varchar) as email,
        cast(null as varchar) as status,
        cast(null as timestamp) as status_changed_at
    where false
),
{%- endif %}

final as (
    select
        statuses.segment_id,
        statuses.recipient_id,
        coalesce(statuses.segment_name, previous_statuses.segment_name)
            as segment_name,
        coalesce(statuses.contact_key, previous_statuses.contact_key)
            as contact_key,
        coalesce(statuses.email, previous_statuses.email) as email,
        statuses.status,
        case
            when previous_statuses.status = statuses.status
                then previous_statuses.status_changed_at
            when statuses.status = 'existing' then statuses.exported_at
            else {{ build_started_at() }}
        end as status_changed_at
    from statuses
    left join previous_statuses
        on
            statuses.segment_id = previous_statuses.segment_id
            and statuses.recipient_id = previous_statuses.recipient_id
)

select * from final
