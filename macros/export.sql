{% macro export_fingerprint(columns) -%}
    md5_number(concat_ws(chr(31)
    {%- for column in columns -%}
        , coalesce(cast({{ column }} as varchar), chr(0))
    {%- endfor -%}
    ))
{%- endmacro %}

{% macro spreadsheet_safe_text(expression) -%}
    case
        when
            {{ expression }} <> ''
            and contains('=@+-' || chr(9) || chr(13), left({{ expression }}, 1))
            and not regexp_matches({{ expression }}, '^[+-]?[0-9][0-9 ().,/-]*$')
            then '''' || {{ expression }}
        else {{ expression }}
    end
{%- endmacro %}
