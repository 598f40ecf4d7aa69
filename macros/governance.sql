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
        {%- if violations -%}
            {{ exceptions.raise_compiler_error(
                "Governance: " ~ violations | join("; ")
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1 as governance_checked
{%- endmacro %}
