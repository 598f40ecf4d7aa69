{% macro remove_deleted_contacts() -%}
    delete from {{ this }}
    using {{ ref('crm_contact_deletions') }} as deleted
    where
        {{ this }}._source_key = deleted._source_key
        and {{ is_later_version('deleted', this) }}
{%- endmacro %}
