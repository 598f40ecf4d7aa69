-- Insight interactions "Purchased" from the CRM: a purchase becomes an
-- interaction once a version of it carries `PaidOn`; its latest paid version
-- wins, and the first paid version read says when it first existed.

with

state as (
    {{ incremental_state() }}
),

purchases_read as (
    select * from {{ ref('stg_crm__purchases') }}
    where {{ landed_since_last_run() }}
),

latest_paid as (
    select
        *,
        {{ version_columns(
            'purchase_id', 'coalesce(last_modified_at, created_at)'
        ) }},
        min({{ landing_position() }})
            over (partition by purchase_id) as _first_landed
    from purchases_read
    where paid_at is not null
    qualify {{ is_latest_version(
        'purchase_id', 'coalesce(last_modified_at, created_at)'
    ) }}
),

mapped as (
    select
        {{ insight_columns('crm_purchases') }},
        _source_key,
        _version_at,
        _load_id,
        _row_number,
        _first_landed,
        {{ run_columns('(select max(load_id) from purchases_read)') }}
    from latest_paid
),

changed as (
    {{ changed_rows('mapped', insight_column_names('crm_purchases')) }}
)

{{ keep_first_landed('changed') }}
