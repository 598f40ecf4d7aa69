{% macro record_invocation_start() -%}
    {%- if execute -%}
        {%- set args = invocation_args_dict -%}
        {%- set narrowed = ['select', 'exclude', 'selector', 'resource_types',
                            'exclude_resource_types', 'empty', 'sample'] -%}
        {%- set scope = namespace(whole=args.get('which') == 'build') -%}
        {%- for name in narrowed if args.get(name) -%}
            {#- without unit tests (static inputs) it still builds everything -#}
            {%- if args[name] | list != ['unit_test'] -%}
                {%- set scope.whole = false -%}
            {%- endif -%}
        {%- endfor -%}
        insert into cdp_state.dbt_invocations
            (invocation_id, command, scope, started_at, through_load_id,
             tests_since_load_id, vars)
        values (
            '{{ invocation_id }}',
            '{{ args.get("which") }}',
            {{ "'whole'" if scope.whole else 'null' }},
            {{ build_started_at() }},
            (select max(load_id) from raw._loads),
            {{ var('tests_since_load_id') }},
            '{{ tojson(args.get("vars") or {}) | replace("'", "''") }}'
        )
    {%- endif -%}
{%- endmacro %}

{% macro record_invocation_end(results) -%}
    {%- if execute -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error'])
            | list -%}
        update cdp_state.dbt_invocations
        set finished_at = now()::timestamp, passed = {{ not failed }}
        where invocation_id = '{{ invocation_id }}'
    {%- endif -%}
{%- endmacro %}

