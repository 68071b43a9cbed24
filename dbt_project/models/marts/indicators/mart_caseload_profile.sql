{#- One row per country (and ALL): the caseload at a glance, small cells suppressed. -#}
{%- set figures = ['mean_age_years', 'pct_male', 'pct_uasc', 'mean_age_uasc_years',
                   'pct_male_among_uasc', 'pct_displacement__refugee', 'pct_displacement__idp',
                   'pct_displacement__host_community', 'pct_risk__high', 'pct_care_family', 'pct_closed',
                   'mean_case_duration_months', 'median_case_duration_months', 'pct_closed_positive_outcome'] -%}
select
    country_code,
    cast(max(case when indicator_id = 'children_in_scope' then {{ published('numerator') }} end)
        as {{ dbt.type_bigint() }}) as children_in_scope,
    {%- for figure in figures %}
    max(case when indicator_id = '{{ figure }}' then {{ published('value') }} end) as {{ figure }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref('mart_indicators') }}
where dimension = 'total'
group by country_code
