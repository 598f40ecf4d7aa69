{% macro check_governance() -%}
    {%- if execute -%}
        {%- set violations = [] -%}
        {%- for exposure in graph.exposures.values() -%}
            {%- set refused = exposure.meta.get('refuses_labels', []) -%}
            {%- for node_id in exposure.depends_on.nodes -%}
                {%- set node = graph.nodes.get(node_id) -%}
                {%- for column in (node.columns.values() if node else []) -%}
                    {%- set meta = column.meta or {} -%}
                    {%- for label in meta.get('labels', []) if label in refused -%}
                        {%- do violations.append(
                            "model " ~ node.schema ~ "." ~ node.name ~ ", column "
                            ~ column.name ~ ": label " ~ label ~ " is refused by destination "
                            ~ exposure.name
                        ) -%}
                    {%- endfor -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endfor -%}
        {{ fail_on_problems('Governance', violations) }}
    {%- endif -%}
    select 1 as governance_checked
{%- endmacro %}

{% macro fail_on_problems(title, problems) -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(title ~ ": " ~ problems | join("; ")) }}
    {%- endif -%}
{%- endmacro %}
