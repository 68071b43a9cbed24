{#- Harmonised care arrangement categories; family care is parents or kinship care. -#}
select distinct
    category as care_category,
    category in ('parents', 'kinship_care') as is_family_care
from {{ ref('categorisation') }}
where field = 'care_arrangements_type'
union all
select 'unmapped' as care_category, false as is_family_care
