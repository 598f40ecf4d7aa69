{#- Custom schema names are used as they are (`staging`, `ops`, ...), not prefixed
    with the target schema, so every public relation has the name the spec gives. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
