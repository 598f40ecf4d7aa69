{#- Field mappings of the Insight import types live in the var
    `insight_import_types` (dbt_project.yml); these macros turn them into SQL. -#}

{% macro insight_import_type(import_type) -%}
    {{ return(var('insight_import_types')[import_type]) }}
{%- endmacro %}

{#- One mapped value: a column or expression, {text: ...}, or {case:, texts:}. -#}
{% macro insight_value(spec) -%}
    {%- if spec is mapping and 'text' in spec -%}
        '{{ spec.text | replace("'", "''") }}'
    {%- elif spec is mapping and 'case' in spec -%}
        case {{ spec.case }}
            {%- for value, text in spec.texts.items() %}
            when '{{ value }}' then '{{ text | replace("'", "''") }}'
            {%- endfor %}
        end
    {%- else -%}
        {{ spec }}
    {%- endif -%}
{%- endmacro %}

{#- The Insight columns of an import type, in the order of its CSV header. -#}
{% macro insight_columns(import_type) -%}
    {%- for column, spec in insight_import_type(import_type).columns.items() %}
    {{ insight_value(spec) }} as "{{ column }}"
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
