{#- Services (share of implemented service records), care arrangements (share of children with a
    recorded arrangement) and closure reasons (share of closed cases) per country, one row per
    category, with the category's outcome for closures. Small cells suppressed. -#}
select
    country_code,
    case
        when indicator_id like 'pct_service__%' then 'service'
        when indicator_id like 'pct_care__%' then 'care_arrangement'
        else 'closure_reason'
    end as topic,
    {{ dbt.split_part('indicator_id', "'__'", 2) }} as category,
    {{ published('numerator') }} as records,
    denominator as topic_total,
    {{ published('value') }} as pct,
    closures.closure_outcome
from {{ ref('mart_indicators') }} as indicators
left join {{ ref('dim_closure_category') }} as closures
    on indicators.indicator_id = 'pct_closure__' || closures.closure_category
where indicators.dimension = 'total'
    and (indicator_id like 'pct_service__%' or indicator_id like 'pct_care__%' or indicator_id like 'pct_closure__%')
