-- The latest version of every Support ticket.

{{ config(materialized='incremental', unique_key='_source_key') }}

{{ current_versions(
    'stg_support__tickets', 'ticket_id', 'coalesce(last_modified_at, created_at)'
) }}
