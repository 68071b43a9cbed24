{{ config(materialized='view') }}
{{ union_countries('concerns') }}
