{#- Harmonised protection concern categories, with `unmapped` for values that match no option.
    Sensitive categories (var sensitive_categories) have a higher small-cell threshold. -#}
select
    category as concern_category,
    category in ('{{ var("sensitive_categories") | join("', '") }}') as is_sensitive
from {{ ref('int_categories__listed') }}
where dimension = 'concern'
