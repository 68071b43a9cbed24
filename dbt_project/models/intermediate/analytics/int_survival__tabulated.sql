{#- Time to closure, tabulated for the Kaplan-Meier estimate (int_survival__estimated): in-scope
    harmonised cases of each country's latest export, per group (the country and ALL, each in
    total, by sex, age group and risk level) and day since registration: closures (a closed case
    with a valid duration, at that duration) and censored cases (open or transferred, at the
    export date: still not closed when last seen; a transferred case's transfer date is not in
    the export). A closed case without a valid duration (D1, D3) cannot be placed in time: it is
    counted with time_days null and left out of the estimate. -#}
with

cases as (
    select
        country_code,
        case when sex in ('male', 'female') then sex else 'other_or_unknown' end as sex_group,
        age_group,
        risk_level,
        coalesce(is_closed, false) as is_closed,  -- a status that maps to nothing is not a closure
        case
            when is_closed then case_duration_days
            else {{ dbt.datediff('registration_date', 'export_date', 'day') }}
        end as time_days
    from {{ ref('int_cases__resolved') }}
    where row_outcome = 'harmonised' and is_in_scope
),

countries as (
    select cases.*, country_code as country_group from cases
    union all
    select cases.*, 'ALL' as country_group from cases
),

grouped as (
    select country_group, 'total' as dimension, 'total' as dimension_value, time_days, is_closed from countries
    union all
    select country_group, 'sex', sex_group, time_days, is_closed from countries
    union all
    select country_group, 'age_group', age_group, time_days, is_closed from countries
    union all
    select country_group, 'risk_level', risk_level, time_days, is_closed from countries
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
