{#- Governance: columns carry data-usage labels in their YAML (`meta.labels`, e.g.
    I1 directly identifiable, I2 indirectly, C2 no third-party export, C12 no export
    at all); destinations are exposures whose `meta.refuses_labels` lists the labels
    they must not receive. Run at the start of every dbt command: a model feeding an
    exposure with a refused label fails the run, naming model, column, label and
    destination. `cdp export` reads the same declarations from the manifest. -#}
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

{#- The end of every on-run-start check: stop the dbt command with one line that
    lists what is wrong, or do nothing. -#}
{% macro fail_on_problems(title, problems) -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(title ~ ": " ~ problems | join("; ")) }}
    {%- endif -%}
{%- endmacro %}
