with

source as (
    select * from {{ source('crm', 'purchases') }}
),

checked as (
    select
        *,
        {{ reject_reason('crm', 'purchases') }} as reject_reason
    from source
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
        _load_id as load_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        {{ landed_record_id() }} as landed_record_id
    from checked
    where reject_reason is null
)

select * from renamed
