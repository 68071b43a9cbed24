{#- Harmonised care arrangement categories, with `unmapped`; family care is parents or kinship care. -#}
with

categories as (
    select category as care_category from {{ ref('int_categories__listed') }} where dimension = 'care'
    union all
    select 'unmapped' as care_category
)

select
    care_category,
    care_category in ('parents', 'kinship_care') as is_family_care
from categories
