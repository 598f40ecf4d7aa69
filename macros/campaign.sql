{% macro campaign_vocabulary(seed, label_column, code_column=none) -%}
    select
        lower({{ label_column }}) as vocabulary_key,
        *
    from {{ ref(seed) }}
    {%- if code_column %}
    union all
    select
        cast({{ code_column }} as varchar) as vocabulary_key,
        *
    from {{ ref(seed) }}
    {%- endif %}
{%- endmacro %}

{% macro segment_meta(model_name) -%}
    {%- set node = (graph.nodes or {}).get('model.cdp.' ~ model_name, {}) if execute else {} -%}
    {%- set meta = (node.get('meta') or node.get('config', {}).get('meta') or {}) if node else {} -%}
    {{ return({
        'id': meta.get('segment_id', model_name),
        'name': meta.get('segment_name', model_name),
    }) }}
{%- endmacro %}

{% macro check_segment_definitions() -%}
    {%- if execute -%}
        {%- set problems = [] -%}
        {%- set seen = {} -%}
        {%- for model_name in var('campaign_segments') -%}
            {%- set node = graph.nodes.get('model.cdp.' ~ model_name) -%}
            {%- if not node -%}
                {%- do problems.append(
                    "var campaign_segments names " ~ model_name
                    ~ ", which is not a model") -%}
            {%- else -%}
                {%- set meta = node.config.meta or {} -%}
                {%- set unknown = meta.keys() | reject(
                    'in', ['segment_id', 'segment_name', 'personalization']) | list -%}
                {%- if unknown -%}
                    {%- do problems.append(model_name ~ ": unknown meta key(s) "
                        ~ unknown | join(', ')
                        ~ " (a name with a comma needs quotes)") -%}
                {%- endif -%}
                {%- set segment = segment_meta(model_name) -%}
                {%- if not modules.re.fullmatch('[a-z0-9_]{1,64}',
                    segment.id | string) -%}
                    {%- do problems.append(model_name ~ ": segment_id '"
                        ~ segment.id ~ "' is not [a-z0-9_]{1,64}") -%}
                {%- elif segment.id in seen -%}
                    {%- do problems.append(model_name ~ ": segment_id '"
                        ~ segment.id ~ "' is also " ~ seen[segment.id] ~ "'s") -%}
                {%- endif -%}
                {%- do seen.update({segment.id: model_name}) -%}
                {%- if not (segment.name is string and segment.name.strip()) -%}
                    {%- do problems.append(model_name
                        ~ ": segment_name is empty or not text") -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {{ fail_on_problems('Segment definitions', problems) }}
    {%- endif -%}
    select 1 as segment_definitions_checked
{%- endmacro %}

{% macro segment_status(members, exported) -%}
    case
        when {{ exported }}.recipient_id is null then 'realized'
        when {{ members }}.recipient_id is null then 'exited'
        else 'existing'
    end
{%- endmacro %}

{% macro segments_as_of() -%}
    {%- if var('segments_as_of') -%}
        cast('{{ var("segments_as_of") }}' as timestamp)
    {%- else -%}
        (select max(interaction_at) from {{ ref('interactions') }})
    {%- endif -%}
{%- endmacro %}

{% macro campaign_event_id(log, record_id, part=none, fallback=none) -%}
    {%- set parts = [log, "':'", record_id] -%}
    {%- if part -%}
        {%- set parts = parts + ["':'", 'coalesce(' ~ part ~ ', '
            ~ (fallback or "''") ~ ')'] -%}
    {%- endif -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{% macro campaign_channel(address) -%}
    case
        when {{ address }} like '%@%' then 'email'
        when {{ address }} is not null then 'mobile'
    end
{%- endmacro %}

{% macro check_campaign_attributes() -%}
    {%- if execute -%}
        {%- set problems = [] -%}
        {%- set contacts = graph.nodes.get('model.cdp.contacts') -%}
        {%- set declared = contacts.columns if contacts else {} -%}
        {%- set refused = [] -%}
        {%- for exposure in graph.exposures.values()
            if exposure.name == 'adobe_campaign' -%}
            {%- do refused.extend(exposure.meta.get('refuses_labels', [])) -%}
        {%- endfor -%}
        {%- set sets = [(
            'var campaign_profile_attributes', var('campaign_profile_attributes')
        )] -%}
        {%- for model_name in var('campaign_segments') -%}
            {%- set node = graph.nodes.get('model.cdp.' ~ model_name) -%}
            {%- set meta = (node.config.meta or {}) if node else {} -%}
            {%- if 'personalization' in meta -%}
                {%- do sets.append((model_name ~ ' meta.personalization',
                    meta.personalization)) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for owner, attributes in sets -%}
            {%- if attributes is not mapping -%}
                {%- do problems.append(owner
                    ~ " must map Campaign field names to profile.contacts columns") -%}
            {%- else -%}
                {%- if attributes | length > 20 -%}
                    {%- do problems.append(owner ~ " has " ~ attributes | length
                        ~ " attributes; Campaign takes at most 20") -%}
                {%- endif -%}
                {%- for field, column in attributes.items() -%}
                    {%- if not modules.re.fullmatch(
                        '[A-Za-z][A-Za-z0-9_]{0,63}', field | string) -%}
                        {%- do problems.append(owner ~ ": field name '" ~ field
                            ~ "' is not [A-Za-z][A-Za-z0-9_]{0,63}") -%}
                    {%- endif -%}
                    {%- if column not in declared -%}
                        {%- do problems.append(owner ~ ": " ~ column
                            ~ " is not a column of profile.contacts") -%}
                    {%- else -%}
                        {%- for label in (declared[column].meta or {}).get('labels', [])
                            if label in refused -%}
                            {%- do problems.append(owner ~ ": model profile.contacts, column "
                                ~ column ~ ": label " ~ label
                                ~ " is refused by destination adobe_campaign") -%}
                        {%- endfor -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for name, model_name in var('campaign_lookups').items() -%}
            {%- if not modules.re.fullmatch('[a-z0-9_]{1,64}', name | string) -%}
                {%- do problems.append("campaign lookup name '" ~ name
                    ~ "' is not [a-z0-9_]{1,64}") -%}
            {%- endif -%}
            {%- if not graph.nodes.get('model.cdp.' ~ model_name) -%}
                {%- do problems.append("campaign lookup " ~ name ~ " names "
                    ~ model_name ~ ", which is not a model") -%}
            {%- endif -%}
        {%- endfor -%}
        {{ fail_on_problems('Campaign attributes', problems) }}
    {%- endif -%}
    select 1 as campaign_attributes_checked
{%- endmacro %}
