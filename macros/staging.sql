{% macro reject_reason(source_name, table_name) -%}
    {%- set rules = var('required_columns')[source_name ~ '__' ~ table_name] -%}
    case
        {%- for column in rules['ids'] + rules['timestamps'] %}
        when nullif(trim({{ column }}), '') is null then 'missing {{ column }}'
        {%- endfor %}
        {%- for column in rules['timestamps'] %}
        when {{ source_timestamp(column, source_name) }} is null
            then 'unparseable {{ column }}'
        {%- endfor %}
    end
{%- endmacro %}

{% macro usable_records(source_name, table_name) -%}
    select * from {{ source(source_name, table_name) }}
    where {{ reject_reason(source_name, table_name) }} is null
    {%- if is_incremental() %}
        and _load_id > (select coalesce(max(load_id), -1) from {{ this }})
    {%- endif %}
{%- endmacro %}

{% macro landed_columns() -%}
    _load_id as load_id,
    _source_file as source_file,
    _row_number as source_row_number,
    _loaded_at as loaded_at,
    {{ landed_record_id() }} as landed_record_id
{%- endmacro %}

{% macro landed_columns_of(relation) -%}
    {{ relation }}.load_id,
    {{ relation }}.source_file,
    {{ relation }}.source_row_number,
    {{ relation }}.loaded_at,
    {{ relation }}.landed_record_id
{%- endmacro %}

{% macro landed_record_id() -%}
    {{ dbt.concat(['_load_id', "'-'", '_row_number']) }}
{%- endmacro %}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{% macro source_timestamp(column, source_name) -%}
    {{ parse_timestamp(column, var('source_timezones')[source_name]) }}
{%- endmacro %}

{% macro staging_entities() -%}
    {{ return([
        {'source': 'crm', 'table': 'contacts', 'model': 'stg_crm__contacts', 'key': 'Id',
            'namespace': 'crm_id'},
        {'source': 'crm', 'table': 'purchases', 'model': 'stg_crm__purchases', 'key': 'Id'},
        {'source': 'support', 'table': 'contacts', 'model': 'stg_support__contacts', 'key': 'Id',
            'namespace': 'support_id'},
        {'source': 'support', 'table': 'tickets', 'model': 'stg_support__tickets', 'key': 'Id'},
        {'source': 'campaign', 'table': 'recipients', 'model': 'stg_campaign__recipients',
            'key': 'RecipientId', 'namespace': 'campaign_id'},
        {'source': 'campaign', 'table': 'broadlog', 'model': 'stg_campaign__broadlogs',
            'key': 'BroadLogId'},
        {'source': 'campaign', 'table': 'trackinglog', 'model': 'stg_campaign__trackinglogs',
            'key': 'TrackingLogId'},
        {'source': 'campaign', 'table': 'quarantine', 'model': 'stg_campaign__quarantines',
            'key': 'Address'},
        {'source': 'campaign', 'table': 'preferences', 'model': 'stg_campaign__preferences',
            'key': 'RecipientId'},
    ]) }}
{%- endmacro %}

{% macro text_values(values) -%}
    {%- for value in values -%}
        '{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
