{#- Experience-event type of a Campaign log row: broadLog statuses and trackingLog
    tracking types mapped to message.* events. -#}
{% macro campaign_event_type(broadlog_status=none, tracking_type=none) -%}
    {%- if broadlog_status -%}
        case {{ broadlog_status }}
            when 'Sent' then 'message.sent'
            when 'Delivered' then 'message.sent'
            when 'Failed' then 'message.bounce'
            when 'Pending' then 'message.pending'
            when 'Ignored' then 'message.ignored'
        end
    {%- else -%}
        case {{ tracking_type }}
            when 'Open' then 'message.open'
            when 'Click' then 'message.click'
        end
    {%- endif -%}
{%- endmacro %}

{#- A segment's id, name and description from its model's YAML meta (graph at run
    time), falling back to the model name. -#}
{% macro segment_meta(model_name) -%}
    {%- set node = (graph.nodes or {}).get('model.cdp.' ~ model_name, {}) if execute else {} -%}
    {%- set meta = (node.get('meta') or node.get('config', {}).get('meta') or {}) if node else {} -%}
    {{ return({
        'id': meta.get('segment_id', model_name),
        'name': meta.get('segment_name', model_name),
    }) }}
{%- endmacro %}

{#- The reference time of segment logic: var segments_as_of, else the latest
    interaction in the profile. -#}
{% macro segments_as_of() -%}
    {%- if var('segments_as_of') -%}
        cast('{{ var("segments_as_of") }}' as timestamp)
    {%- else -%}
        (select max(interaction_at) from {{ ref('interactions') }})
    {%- endif -%}
{%- endmacro %}
