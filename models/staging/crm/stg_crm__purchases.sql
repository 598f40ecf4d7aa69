with

source as (
    {{ usable_records('crm', 'purchases') }}
),

renamed as (
    select
        {{ clean_text('id') }} as purchase_id,
        {{ clean_text('contactid') }} as contact_id,
        {{ clean_text('productname') }} as product_name,
        try_cast(trim(amount) as decimal(18, 2)) as amount,
        upper({{ clean_text('currency') }}) as currency,
        {{ source_timestamp('created', 'crm') }} as created_at,
        {{ source_timestamp('paidon', 'crm') }} as paid_at,
        {{ source_timestamp('shippedon', 'crm') }} as shipped_at,
        {{ source_timestamp('lastmodifiedon', 'crm') }} as last_modified_at,
        {{ landed_columns() }}
    from source
)

select * from renamed
