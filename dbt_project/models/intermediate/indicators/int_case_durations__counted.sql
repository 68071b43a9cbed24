{#- The histogram of case durations in each country's own groups (its total, sex and age groups):
    the closed children of each whole number of days from registration to closure. ALL's median
    duration comes from the sum of these histograms (int_indicators__computed): a median cannot be
    summed over countries, a histogram can. Kept by country, as int_country_indicators__computed. -#}
{{ config(**by_country()) }}
select
    country_code,
    dimension,
    dimension_value,
    case_duration_days,
    case_duration_months,
    count(*) as children
from {{ own_country_groups() }} as grouped
where case_duration_days is not null
group by country_code, dimension, dimension_value, case_duration_days, case_duration_months
