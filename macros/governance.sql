{% macro check_governance() -%}
    {%- if execute -%}
        {%- set violations = [] -%}
        {%- for exposure in graph.exposures.values() -%}
            {%- do violations.extend(governance_violations(graph, exposure.name)) -%}
        {%- endfor -%}
        {{ fail_on_problems('Governance', violations) }}
    {%- endif -%}
    select 1 as governance_checked
{%- endmacro %}

{% macro governance_violations(graph, exposure_name, exports=none) -%}
    {%- set exposure = graph.exposures.values()
        | selectattr('name', 'equalto', exposure_name) | first -%}
    {%- set refused = (exposure.meta or {}).get('refuses_labels', []) -%}
    {%- set models = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- do models.update({node.name: node}) -%}
    {%- endfor -%}
    {%- if exports is none -%}
        {%- set exports = [] -%}
        {%- for node_id in exposure.depends_on.nodes if node_id in graph.nodes -%}
            {%- set node = graph.nodes[node_id] -%}
            {%- do exports.append((node.name, node.columns.keys() | list)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set violations = [] -%}
    {%- for model, columns in exports -%}
        {%- set node = models[model] -%}
        {%- set declared = {} -%}
        {%- for name, column in node.columns.items() -%}
            {%- do declared.update({name | lower: column}) -%}
        {%- endfor -%}
        {%- for column in columns -%}
            {%- set meta = (declared.get(column | lower) or {}).get('meta') or {} -%}
            {%- for label in meta.get('labels', []) if label in refused -%}
                {%- do violations.append(
                    'model ' ~ node.schema ~ '.' ~ model ~ ', column ' ~ column
                    ~ ': label ' ~ label ~ ' is refused by destination ' ~ exposure_name
                ) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(violations) }}
{%- endmacro %}

{% macro fail_on_problems(title, problems) -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(title ~ ": " ~ problems | join("; ")) }}
    {%- endif -%}
{%- endmacro %}
