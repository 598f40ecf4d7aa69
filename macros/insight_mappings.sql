{#- Field mappings of the Insight import types live in the var
    `insight_import_types` (dbt_project.yml); these macros turn them into SQL. -#}

{% macro insight_import_type(import_type) -%}
    {{ return(var('insight_import_types')[import_type]) }}
{%- endmacro %}

{% macro insight_interaction_columns() -%}
    {{ return(['UniqueId', 'Predicate', 'Object', 'Timestamp']) }}
{%- endmacro %}

{% macro insight_header(import_type) -%}
    {%- set header = insight_interaction_columns() | list -%}
    {%- for column in insight_import_type(import_type).columns
        if column not in header -%}
        {%- do header.append(column) -%}
    {%- endfor -%}
    {{ return(header) }}
{%- endmacro %}

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

{% macro insight_columns(import_type) -%}
    {%- set mapping = insight_import_type(import_type).columns -%}
    {%- for column in insight_header(import_type) %}
    {% if column in mapping -%}
        {{ insight_value(mapping[column]) }}
    {%- else -%}
        cast(null as varchar)
    {%- endif %} as "{{ column }}"
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro check_insight_data_sources() -%}
    {%- if execute -%}
        {%- set problems = [] -%}
        {%- for name, import_type in var('insight_import_types').items() -%}
            {%- set source = import_type.data_source | string -%}
            {%- if not modules.re.fullmatch('[A-Za-z0-9_.-]{1,32}', source) -%}
                {%- do problems.append(
                    "Insight data source '" ~ source ~ "' of import type " ~ name
                    ~ " is not a valid Insight data source name (at most 32"
                    ~ " characters of A-Z a-z 0-9 _ . -)") -%}
            {%- endif -%}
        {%- endfor -%}
        {{ fail_on_problems('Data sources', problems) }}
    {%- endif -%}
    select 1 as insight_data_sources_checked
{%- endmacro %}
