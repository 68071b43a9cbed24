{#- One row per child and harmonised concern category (int_case_concerns__distinct), with the
    child's scope. -#}
{{ config(**by_country()) }}
select
    concerns.case_key,
    concerns.country_code,
    concerns.concern_category,
    fct_cases.is_in_scope
from {{ country_rows('int_case_concerns__distinct') }} as concerns
inner join {{ country_rows('fct_cases') }} as fct_cases
    on fct_cases.case_key = concerns.case_key
    and fct_cases.country_code = concerns.country_code
{{ in_country_order() }}
