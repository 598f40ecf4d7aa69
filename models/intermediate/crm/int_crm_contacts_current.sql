-- The latest version of every CRM contact, deletions included.

{{ config(materialized='incremental', unique_key='_source_key') }}

{{ current_versions('stg_crm__contacts', 'contact_id', 'last_modified_at') }}
