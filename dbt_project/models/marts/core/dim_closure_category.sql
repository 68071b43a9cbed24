{#- Harmonised closure reasons, with `missing` and `unmapped`, and their outcome (indicators.md; the
    closure_outcomes seed). A reason the seed does not rate is `unknown`. -#}
select
    categories.category as closure_category,
    coalesce(closure_outcomes.closure_outcome, 'unknown') as closure_outcome
from {{ ref('int_categories__listed') }} as categories
left join {{ ref('closure_outcomes') }} as closure_outcomes
    on closure_outcomes.closure_category = categories.category
where categories.dimension = 'closure'
