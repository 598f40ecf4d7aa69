-- One row per dbt run that built the profile: the identity graph's health as
-- of that run, kept over time (`cdp report` shows the latest runs; `cdp status`
-- the graph as it is now).

{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    contract={'enforced': true},
) }}

with

identities as (
    select * from {{ ref('identities') }}
),

contacts as (
    select * from {{ ref('contacts') }}
),

identity_merges as (
    select * from {{ ref('identity_merges') }}
),

conflicts as (
    select * from {{ ref('identity_conflicts') }}
),

final as (
    select
        '{{ invocation_id }}' as invocation_id,
        {{ build_started_at() }} as run_started_at,
        (select count(*) from identities) as identifiers,
        (select count(*) from contacts) as contacts,
        (
            select count(*) from identities
            where is_over_cap
        ) as identifiers_over_cap,
        (select count(*) from identity_merges) as contacts_merged,
        (select count(*) from conflicts) as links_refused
)

select * from final
