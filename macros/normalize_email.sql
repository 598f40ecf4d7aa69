{% macro normalize_email(column) -%}
    nullif(
        lower(trim({{ column }}, ' ' || chr(9) || chr(10) || chr(13) || chr(160))),
        ''
    )
{%- endmacro %}
