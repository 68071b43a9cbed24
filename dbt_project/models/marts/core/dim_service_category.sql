{#- Harmonised service categories, with `unmapped` (a value matching no option) and `missing`. -#}
select distinct category as service_category
from {{ ref('categorisation') }}
where field = 'service_type'
union all
select 'unmapped' as service_category
union all
select 'missing' as service_category
