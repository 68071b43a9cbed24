{#- One row per service of a harmonised case (implemented or not); indicators count the
    implemented ones. -#}
{{ config(**by_country()) }}
select
    services.service_key,
    services.case_key,
    services.country_code,
    services.service_category,
    services.is_implemented,
    services.service_date,
    fct_cases.is_in_scope
from {{ country_rows('int_services__resolved') }} as services
inner join {{ country_rows('fct_cases') }} as fct_cases
    on fct_cases.case_key = services.case_key
    and fct_cases.country_code = services.country_code
where services.row_outcome = 'harmonised'
{{ in_country_order() }}
