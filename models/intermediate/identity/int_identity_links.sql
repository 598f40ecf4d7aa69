-- Links between identifiers: each record to its normalised email, a Campaign
-- recipient to the CRM contact it names, each record to the identifiers of the
-- customer-specific namespaces it carries (var identity_namespaces). Links
-- through a role or shared mailbox (seed role_mailbox_local_parts) are
-- refused, and so is an identifier of a non-linking namespace that several
-- records share.

{{ config(materialized='table') }}

with

records as (
    select * from {{ ref('int_identity_records') }}
),

blocked_local_parts as (
    select * from {{ ref('role_mailbox_local_parts') }}
),

email_links as (
    select
        records.namespace,
        records.identifier,
        'email' as linked_namespace,
        records.email as linked_identifier,
        blocked_local_parts.reason as refused_because
    from records
    left join blocked_local_parts
        on split_part(records.email, '@', 1) = blocked_local_parts.local_part
    where records.email is not null
),

crm_links as (
    select
        recipients.namespace,
        recipients.identifier,
        'crm_id' as linked_namespace,
        recipients.crm_contact_id as linked_identifier,
        cast(null as varchar) as refused_because
    from records as recipients
    inner join records as crm
        on
            recipients.crm_contact_id = crm.identifier
            and crm.namespace = 'crm_id'
    where recipients.namespace = 'campaign_id'
),

configured as (
    select configured.*
    from {{ ref('stg_identity__configured_identifiers') }} as configured
    inner join records
        on
            configured.record_namespace = records.namespace
            and configured.record_identifier = records.identifier
),

configured_links as (
    select
        record_namespace as namespace,
        record_identifier as identifier,
        namespace as linked_namespace,
        identifier as linked_identifier,
        case
            when
                not is_linking
                and count(*) over (partition by namespace, identifier) > 1
                then 'shared identifier of non-linking namespace ' || namespace
        end as refused_because
    from configured
),

links as (
    select * from email_links
    union all
    select * from crm_links
    union all
    select * from configured_links
)

select * from links
