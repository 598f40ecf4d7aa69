{#- The column names of a relation, lower case, as the warehouse has them now
    (none at parse time): for models and tests that adapt to what was built or
    landed. -#}
{% macro column_names(relation) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name')
        | map('lower') | list) }}
{%- endmacro %}
