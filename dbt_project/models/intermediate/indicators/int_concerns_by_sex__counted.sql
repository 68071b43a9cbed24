{#- The counts behind mart_sex_differences, per country: the boys and the girls (in scope) with at
    least one concern (concern_category null), and with each concern category. Kept by country:
    one country's next export counts that country again, and the mart sums the countries into ALL
    (each child counts in one country) without reading every child again. -#}
{{ config(**by_country()) }}
with

children as (
    select country_code, case_key, sex
    from {{ own_country_groups() }} as grouped
    where dimension = 'total' and sex in ('male', 'female')
),

concerns as {{ inlined_cte() }} (
    select case_key, concern_category from {{ country_rows('int_case_concerns__distinct') }} as concerns
),

with_concern as (
    select distinct children.country_code, children.case_key, children.sex
    from children
    inner join concerns
        on concerns.case_key = children.case_key
),

any_concern as (
    select
        country_code,
        cast(null as {{ dbt.type_string() }}) as concern_category,
        sum(case when sex = 'male' then 1 else 0 end) as boys,
        sum(case when sex = 'female' then 1 else 0 end) as girls
    from with_concern
    group by country_code
),

each_concern as (
    select
        with_concern.country_code,
        concerns.concern_category,
        sum(case when with_concern.sex = 'male' then 1 else 0 end) as boys,
        sum(case when with_concern.sex = 'female' then 1 else 0 end) as girls
    from with_concern
    inner join concerns
        on concerns.case_key = with_concern.case_key
    group by with_concern.country_code, concerns.concern_category
)

select country_code, concern_category, cast(boys as {{ dbt.type_bigint() }}) as boys,
    cast(girls as {{ dbt.type_bigint() }}) as girls
from any_concern
union all
select country_code, concern_category, cast(boys as {{ dbt.type_bigint() }}) as boys,
    cast(girls as {{ dbt.type_bigint() }}) as girls
from each_concern
