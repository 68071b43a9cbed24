{#- One row per harmonised case and concern category: a child's two options in one category count
    once, and `none` (LBN's "No Risk") is not a concern. -#}
{{ config(**by_country()) }}
select distinct
    cases.case_key,
    cases.country_code,
    concerns.concern_category
from {{ country_rows('int_concerns__unioned') }} as concerns
inner join {{ country_rows('int_cases__resolved') }} as cases
    on cases.load_id = concerns.load_id
    and cases.source_file = concerns.source_file
    and cases.source_row = concerns.source_row
where cases.row_outcome = 'harmonised'
    and concerns.concern_category <> 'none'
{{ in_country_order() }}
