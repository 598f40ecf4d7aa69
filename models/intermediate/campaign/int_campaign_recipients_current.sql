-- The latest version of every Campaign recipient.

{{ config(materialized='incremental', unique_key='_source_key') }}

{{ current_versions(
    'stg_campaign__recipients', 'recipient_id', 'last_modified_at'
) }}
