-- The latest version of every Support contact (ticket submitter).

{{ config(materialized='incremental', unique_key='_source_key') }}

{{ current_versions(
    'stg_support__contacts', 'support_contact_id', 'last_modified_at'
) }}
