{#- Time to closure, tabulated for the Kaplan-Meier estimate in each country's own groups
    (int_survival__tabulated adds ALL, their sum): in-scope harmonised cases of each country's
    latest export, per group (int_children__grouped's: the country in total, by sex and age group;
    and by risk level) and day since registration: closures (a closed case with a valid duration,
    at that duration) and censored cases (open or transferred, at the export date: still not
    closed when last seen; a transferred case's transfer date is not in the export). A closed case
    without a valid duration (D1, D3) cannot be placed in time: it is counted with time_days null
    and left out of the estimate. Kept by country: one country's next export tabulates that
    country again. -#}
{{ config(**by_country()) }}
with

children as (
    select
        country_group,
        dimension,
        dimension_value,
        risk_level,
        coalesce(is_closed, false) as is_closed,  -- a status that maps to nothing is not a closure
        case when is_closed then case_duration_days else days_to_export end as time_days
    from {{ own_country_groups() }} as grouped
),

grouped as (
    {#- The groups of the indicators (total, sex, age group), and risk level. #}
    select country_group, dimension, dimension_value, time_days, is_closed from children
    union all
    select country_group, 'risk_level', risk_level, time_days, is_closed from children where dimension = 'total'
)

select
    country_group as country_code,
    dimension,
    dimension_value,
    time_days,
    cast(sum(case when is_closed and time_days is not null then 1 else 0 end) as {{ dbt.type_bigint() }}) as closures,
    cast(sum(case when not is_closed then 1 else 0 end) as {{ dbt.type_bigint() }}) as censored,
    cast(sum(case when is_closed and time_days is null then 1 else 0 end) as {{ dbt.type_bigint() }})
        as closed_without_duration
from grouped
group by country_group, dimension, dimension_value, time_days
