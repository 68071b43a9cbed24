{#- Time to closure, tabulated for the Kaplan-Meier estimate (int_survival__estimated): each
    country's own groups and day since registration (int_survival__counted, kept by country), and
    ALL's, the sum of the countries' (each case counts in one country). -#}
with

counted as (
    select * from {{ ref('int_survival__counted') }}
)

select country_code, dimension, dimension_value, time_days, closures, censored, closed_without_duration
from counted
union all
select
    'ALL' as country_code,
    dimension,
    dimension_value,
    time_days,
    cast(sum(closures) as {{ dbt.type_bigint() }}) as closures,
    cast(sum(censored) as {{ dbt.type_bigint() }}) as censored,
    cast(sum(closed_without_duration) as {{ dbt.type_bigint() }}) as closed_without_duration
from counted
group by dimension, dimension_value, time_days
