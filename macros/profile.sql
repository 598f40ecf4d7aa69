{#- A contact key: stable text derived from the component's oldest identifier. -#}
{% macro contact_key(namespace, identifier) -%}
    'ck_' || substr(md5({{ namespace }} || ':' || {{ identifier }}), 1, 20)
{%- endmacro %}

{#- The golden value of an attribute across a contact's records, by the merge
    policy (var profile_merge_policy): the most recently modified non-null value,
    or the non-null value of the first source in var profile_source_priority. -#}
{% macro golden_value(column) -%}
    {%- if var('profile_merge_policy') == 'source_priority' -%}
        arg_min(
            {{ column }},
            {{ source_rank('source_name') }} * 1e13
            - epoch(last_modified_at)
        ) filter (where {{ column }} is not null)
    {%- elif var('profile_merge_policy') == 'timestamp_ordered' -%}
        arg_max({{ column }}, last_modified_at)
            filter (where {{ column }} is not null)
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var profile_merge_policy must be timestamp_ordered or source_priority, not "
            ~ var('profile_merge_policy')
        ) }}
    {%- endif -%}
{%- endmacro %}

{#- Position of a source in var profile_source_priority (unlisted sources last). -#}
{% macro source_rank(column) -%}
    case {{ column }}
        {%- for source_name in var('profile_source_priority') %}
        when '{{ source_name }}' then {{ loop.index }}
        {%- endfor %}
        else 99
    end
{%- endmacro %}
