{#- In the staging folder because it reads the raw sources, as only staging may.
    Its rows are the records the staging views leave out, with the reason. -#}
{{ config(schema='ops') }}

{%- set entities = [
    ('crm', 'contacts', 'Id'),
    ('crm', 'purchases', 'Id'),
    ('support', 'contacts', 'Id'),
    ('support', 'tickets', 'Id'),
    ('campaign', 'recipients', 'RecipientId'),
    ('campaign', 'broadlog', 'BroadLogId'),
    ('campaign', 'trackinglog', 'TrackingLogId'),
    ('campaign', 'quarantine', 'Address'),
] %}

with

checked as (
    {% for source_name, table_name, key in entities -%}
        select
            '{{ source_name }}' as source_name,
            '{{ table_name }}' as entity_name,
            _load_id as load_id,
            _source_file as source_file,
            _row_number as source_row_number,
            {{ key }} as record_key,
            {{ reject_reason(source_name, table_name) }} as reason
        from {{ source(source_name, table_name) }}
        {% if not loop.last -%} union all {%- endif %}
    {% endfor %}
),

rejected as (
    select * from checked
    where reason is not null
)

select * from rejected
