{#- The latest complete export of each country: the newest one the loader loaded. A country whose
    newest export failed keeps its last good one. -#}
select
    country as country_code,
    max(export_date) as export_date
from {{ source('raw', 'export_loads') }}
where status = 'loaded'
group by country
