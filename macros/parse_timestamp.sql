{% macro parse_timestamp(column, source_timezone='UTC') -%}
    {{ return(adapter.dispatch('parse_timestamp', 'cdp')(column, source_timezone)) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp(column, source_timezone) -%}
    case
        when regexp_matches(
            trim({{ column }}),
            '\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$'
        )
            then cast(
                try_cast(trim({{ column }}) as timestamptz) at time zone 'UTC'
                as timestamp
            )
        {%- if source_timezone | upper == 'UTC' %}
        else try_cast(trim({{ column }}) as timestamp)
        {%- else %}
        else cast(
            timezone(
                '{{ source_timezone }}', try_cast(trim({{ column }}) as timestamp)
            ) at time zone 'UTC' as timestamp
        )
        {%- endif %}
    end
{%- endmacro %}

{% macro spark__parse_timestamp(column, source_timezone) -%}
    case
        when {{ column }} rlike '\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?\\s*(Z|z|[+-]\\d{2}(:?\\d{2})?)$'
            then to_utc_timestamp(try_cast(trim({{ column }}) as timestamp), 'UTC')
        else to_utc_timestamp(
            try_cast(trim({{ column }}) as timestamp), '{{ source_timezone }}'
        )
    end
{%- endmacro %}
