{{ config(materialized='view') }}
{{ union_countries('cases') }}
