{#- Protection concerns by country, sex and age group: children with the concern, their share of
    children with any concern, and the concern's share of concern records. Small cells suppressed. -#}
select
    children.country_code,
    {{ dbt.split_part('children.indicator_id', "'__'", 2) }} as concern_category,
    children.dimension,
    children.dimension_value,
    case when not children.suppressed then children.numerator end as children_with_concern,
    case when not children.suppressed then children.value end as pct_of_children_with_any_concern,
    case when not records.suppressed then records.value end as pct_of_concern_records
from {{ ref('mart_indicators') }} as children
left join {{ ref('mart_indicators') }} as records
    on records.indicator_id = replace(children.indicator_id, 'pct_children_with_concern__', 'pct_concern__')
    and records.country_code = children.country_code
    and records.dimension = children.dimension
    and records.dimension_value = children.dimension_value
where children.indicator_id like 'pct_children_with_concern__%'
