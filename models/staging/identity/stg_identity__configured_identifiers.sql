-- The identifiers of the customer-specific namespaces (var
-- identity_namespaces): per source record, the value its latest version carries
-- in each configured raw column. A column no landed file has yet contributes
-- nothing.

{%- set columns = configured_identity_columns() %}
{%- set selects = [] %}
{%- for spec in columns %}
    {%- set relation = source(spec.source, spec.entity) %}
    {%- if spec.column | lower in column_names(relation) %}
        {%- do selects.append(spec) %}
    {%- endif %}
{%- endfor %}

with

{% for spec in selects -%}
versions_{{ loop.index }} as (
    select
        '{{ spec.record_namespace }}' as record_namespace,
        {{ clean_text(spec.key) }} as record_identifier,
        '{{ spec.namespace }}' as namespace,
        {{ normalized_identifier(spec.column, spec.normalize) }} as identifier,
        {{ spec.links }} as is_linking,
        '{{ spec.source }}.{{ spec.entity }}.{{ spec.column }}' as source_column,
        {{ source_timestamp(
            var('required_columns')[spec.source ~ '__' ~ spec.entity].timestamps[0],
            spec.source) }} as version_at,
        _load_id as load_id,
        _row_number as source_row_number
    from ({{ usable_records(spec.source, spec.entity) }}) as records
),

{% endfor -%}
versions as (
    {%- for spec in selects %}
    select * from versions_{{ loop.index }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as varchar) as record_namespace,
        cast(null as varchar) as record_identifier,
        cast(null as varchar) as namespace,
        cast(null as varchar) as identifier,
        cast(null as boolean) as is_linking,
        cast(null as varchar) as source_column,
        cast(null as timestamp) as version_at,
        cast(null as bigint) as load_id,
        cast(null as bigint) as source_row_number
    where false
    {%- endfor %}
),

latest as (
    select
        record_namespace,
        record_identifier,
        namespace,
        identifier,
        is_linking,
        source_column
    from versions
    qualify {{ is_latest_version(
        'record_namespace, record_identifier, source_column', 'version_at'
    ) }}
)

select * from latest
where identifier is not null
