{{ config(materialized='view') }}
{{ union_countries('services') }}
