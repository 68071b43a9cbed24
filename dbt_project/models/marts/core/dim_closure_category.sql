{#- Harmonised closure reasons with their outcome (indicators.md), plus `missing` and `unmapped`. -#}
with

categories as (
    select distinct category as closure_category
    from {{ ref('categorisation') }}
    where field in ('closure_reason', 'primary_reason_closure')
    union
    select 'missing' as closure_category
    union
    select 'unmapped' as closure_category
)

select
    closure_category,
    {{ closure_outcome('closure_category') }} as closure_outcome
from categories
