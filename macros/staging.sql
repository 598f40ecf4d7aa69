{#- Why staging cannot use a raw record, or null when it can. The rules come from the
    source declaration: a column with `meta.required` must not be empty, and one with
    `meta.timestamp` as well must parse. -#}
{% macro reject_reason(source_name, table_name) -%}
    {%- set checks = [] -%}
    {%- if execute -%}
        {%- set node = graph.sources['source.cdp.' ~ source_name ~ '.' ~ table_name] -%}
        {%- for column in node.columns.values() -%}
            {%- set meta = column.meta or {} -%}
            {%- if meta.get('required') -%}
                {%- do checks.append(
                    ("nullif(trim(" ~ column.name ~ "), '') is null", 'missing ' ~ column.name)
                ) -%}
                {%- if meta.get('timestamp') -%}
                    {%- do checks.append((
                        source_timestamp(column.name, source_name) ~ ' is null',
                        'unparseable ' ~ column.name
                    )) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if checks -%}
        case
            {%- for condition, reason in checks %}
            when {{ condition }} then '{{ reason }}'
            {%- endfor %}
        end
    {%- else -%}
        cast(null as varchar)
    {%- endif -%}
{%- endmacro %}

{#- The landed record a staging row comes from: load id and position in the file. -#}
{% macro landed_record_id() -%}
    {{ dbt.concat(['_load_id', "'-'", '_row_number']) }}
{%- endmacro %}

{#- Text as delivered, trimmed; empty text is null. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- A source's timestamp column in UTC, read in that source's configured time zone
    (var `source_timezones`) when the text carries no offset. -#}
{% macro source_timestamp(column, source_name) -%}
    {{ parse_timestamp(column, var('source_timezones')[source_name]) }}
{%- endmacro %}
