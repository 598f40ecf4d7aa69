{#- dbt's `unique` and `not_null` tests, testing what is new on relations whose rows
    are kept from build to build. -#}

{% macro untested_rows(model) -%}
    {%- if model.identifier is defined
        and (var('tests_since_load_id') | string | trim) != '-1' -%}
        {%- if '_written_at' in column_names(model) -%}
            _written_at > (
                select coalesce(max(started_at), '-infinity'::timestamp)
                from cdp_state.dbt_invocations
                where scope = 'whole' and passed
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro default__test_unique(model, column_name) %}
    {%- set untested = untested_rows(model) %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where
    {{ column_name }} is not null
    {%- if untested %}
        and {{ column_name }} in (
            select untested.{{ column_name }} from {{ model }} as untested
            where {{ untested }}
        )
    {%- endif %}
group by {{ column_name }}
having count(*) > 1

{% endmacro %}

{% macro default__test_not_null(model, column_name) %}
    {%- set untested = untested_rows(model) %}

select {{ '*' if should_store_failures() else column_name }}
from {{ model }}
where
    {{ column_name }} is null
    {%- if untested %}
        and {{ untested }}
    {%- endif %}

{% endmacro %}
