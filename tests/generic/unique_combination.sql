{#- Fails for every combination of the columns that occurs more than once; on a
    relation whose rows are kept from build to build, for the combinations of the
    rows no passing build has tested (macros/data_tests.sql). -#}
{% test unique_combination(model, columns) %}
    {%- set untested = untested_rows(model) %}

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
{%- if untested %}
where ({{ columns | join(', ') }}) in (
    select ({{ columns | join(', ') }}) from {{ model }}
    where {{ untested }}
)
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
