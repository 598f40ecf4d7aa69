-- The latest version of every broadLog row (a message to a recipient).

{{ config(materialized='incremental', unique_key='_source_key') }}

{{ current_versions('stg_campaign__broadlogs', 'broadlog_id', 'event_at') }}
