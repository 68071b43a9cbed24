{#- A warning, never blocking: a country's defect or unmapped rate that jumped (at least doubled and
    rose by 1 pp or more) since the previous build is worth a look at that export. -#}
{{ config(severity='warn') }}

select country_code, check_id, previous_rate_pct, rate_pct
from {{ ref('mart_data_quality_trend') }}
where rate_jumped
    and built_at = (select max(built_at) from {{ ref('mart_data_quality_trend') }})
