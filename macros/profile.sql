{% macro contact_key(namespace, identifier) -%}
    'ck_' || substr(md5({{ namespace }} || ':' || {{ identifier }}), 1, 20)
{%- endmacro %}

{% macro golden_value(column) -%}
    {%- if var('profile_merge_policy') == 'source_priority' -%}
        arg_min(
            {{ column }},
            (
                {{ source_rank('source_name') }} * 1e13
                - epoch(last_modified_at), namespace, identifier
            )
        ) filter (where {{ column }} is not null)
    {%- elif var('profile_merge_policy') == 'timestamp_ordered' -%}
        arg_max({{ column }}, (last_modified_at, namespace, identifier))
            filter (where {{ column }} is not null)
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var profile_merge_policy must be timestamp_ordered or source_priority, not "
            ~ var('profile_merge_policy')
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro source_rank(column) -%}
    case {{ column }}
        {%- for source_name in var('profile_source_priority') %}
        when '{{ source_name }}' then {{ loop.index }}
        {%- endfor %}
        else 99
    end
{%- endmacro %}

{% macro configured_identity_columns() -%}
    {%- set record_entities = {} -%}
    {%- for entity in staging_entities() if entity.namespace -%}
        {%- do record_entities.update({entity.source ~ '.' ~ entity.table: entity}) -%}
    {%- endfor -%}
    {%- set built_in = ['email'] + record_entities.values() | map(attribute='namespace') | list -%}
    {%- set result = [] -%}
    {%- set problems = [] -%}
    {%- for namespace, spec in var('identity_namespaces').items() -%}
        {%- if not modules.re.fullmatch('[a-z0-9_]{1,64}', namespace | string)
            or namespace in built_in -%}
            {%- do problems.append("namespace '" ~ namespace ~ "' must be [a-z0-9_]{1,64}"
                ~ " and not one of " ~ built_in | join(', ')) -%}
        {%- elif spec is not mapping or not spec.get('columns') -%}
            {%- do problems.append(namespace ~ ": declare columns: [<source>.<entity>.<Column>]") -%}
        {%- elif spec.get('normalize') not in [none, 'lower', 'digits'] -%}
            {%- do problems.append(namespace ~ ": normalize is lower or digits") -%}
        {%- else -%}
            {%- for path in spec.columns -%}
                {%- set parts = (path | string).split('.') -%}
                {%- set entity = record_entities.get(parts[:2] | join('.')) -%}
                {%- if parts | length != 3 or not entity -%}
                    {%- do problems.append(namespace ~ ": " ~ path ~ " is not <source>.<entity>."
                        ~ "<Column> of " ~ record_entities.keys() | join(', ')) -%}
                {%- else -%}
                    {%- do result.append({
                        'namespace': namespace, 'links': spec.get('links', false) is true,
                        'normalize': spec.get('normalize'), 'source': entity.source,
                        'entity': entity.table, 'column': parts[2],
                        'record_namespace': entity.namespace, 'key': entity.key}) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ fail_on_problems('Identity namespaces', problems) }}
    {{ return(result) }}
{%- endmacro %}

{% macro normalized_identifier(expression, normalize) -%}
    {%- if normalize == 'lower' -%}
        lower({{ clean_text(expression) }})
    {%- elif normalize == 'digits' -%}
        nullif(regexp_replace({{ expression }}, '[^0-9]', '', 'g'), '')
    {%- else -%}
        {{ clean_text(expression) }}
    {%- endif -%}
{%- endmacro %}

{% macro links_both_ways(links) -%}
    select namespace, identifier, linked_namespace, linked_identifier
    from {{ links }}
    union all
    select linked_namespace, linked_identifier, namespace, identifier
    from {{ links }}
{%- endmacro %}

{% macro has_identity_state() -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set state = source('identity_state', 'int_identity_components') -%}
    {%- set relation = adapter.get_relation(
        database=state.database, schema=state.schema, identifier=state.identifier
    ) -%}
    {{ return(relation is not none and not flags.FULL_REFRESH) }}
{%- endmacro %}
