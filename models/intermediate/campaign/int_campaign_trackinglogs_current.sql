-- The latest version of every trackingLog row (an open or a click).

{{ config(materialized='incremental', unique_key='_source_key') }}

{{ current_versions(
    'stg_campaign__trackinglogs', 'trackinglog_id', 'logged_at'
) }}
