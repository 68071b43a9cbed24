{#- Harmonised service categories, with `unmapped` (a value matching no option) and `missing`. -#}
select category as service_category
from {{ ref('int_categories__listed') }}
where dimension = 'service'
