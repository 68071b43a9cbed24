{#- Harmonised protection concern categories (from the categorisation seed), with `unmapped` for
    values that match no option. Sensitive categories have a higher small-cell threshold. -#}
select distinct
    category as concern_category,
    category in ('{{ var("sensitive_categories") | join("', '") }}') as is_sensitive
from {{ ref('categorisation') }}
where field in ('protection_concerns', 'type_of_risk')
    and category <> 'none'
union all
select 'unmapped' as concern_category, false as is_sensitive
