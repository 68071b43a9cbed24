{#- Services by concern: for every concern category, the in-scope children with that concern
    (int_case_concerns__distinct; latest exports), per country and ALL, in total and by sex:
    children_served / pct_served: those who received at least one implemented service of the
        service category (every category listed, zero included);
    children_without_service / pct_without_service: those with no implemented service at all;
    median_days_to_first_service: the median of days from registration to the first implemented
        service with a date (services dated before registration left out), over
        children_with_service_date children. The concern-level figures repeat on each service row. -#}
with

groups as (
    {#- The indicators' groups (int_children__grouped): the country and ALL, in total and by sex. #}
    select case_key, country_code, registration_date, country_group, dimension, dimension_value
    from {{ ref('int_children__grouped') }}
    where dimension in ('total', 'sex')
),

implemented as (
    select case_key, country_code, service_category, service_date
    from {{ ref('int_services__resolved') }}
    where row_outcome = 'harmonised' and is_implemented
),

first_service as (
    select
        children.case_key,
        children.country_code,
        count(implemented.case_key) as implemented_services,
        min(case when implemented.service_date >= children.registration_date
            then {{ days_between('children.registration_date', 'implemented.service_date') }} end)
            as days_to_first_service
    from groups as children
    left join implemented
        on implemented.case_key = children.case_key
        and implemented.country_code = children.country_code
    where children.dimension = 'total' and children.country_group = children.country_code  -- each child once
    group by children.case_key, children.country_code
),

grouped as (
    select
        groups.case_key,
        groups.country_code,
        groups.country_group,
        groups.dimension,
        groups.dimension_value,
        concerns.concern_category,
        first_service.implemented_services,
        first_service.days_to_first_service
    from groups
    inner join {{ ref('int_case_concerns__distinct') }} as concerns
        on concerns.case_key = groups.case_key
        and concerns.country_code = groups.country_code
    inner join first_service
        on first_service.case_key = groups.case_key
        and first_service.country_code = groups.country_code
),

concern_figures as (
    select
        country_group,
        dimension,
        dimension_value,
        concern_category,
        count(*) as children_with_concern,
        sum(case when implemented_services = 0 then 1 else 0 end) as children_without_service,
        count(days_to_first_service) as children_with_service_date,
        {{ median_of('days_to_first_service') }} as median_days_to_first_service
    from grouped
    group by country_group, dimension, dimension_value, concern_category
),

served as (
    select
        grouped.country_group,
        grouped.dimension,
        grouped.dimension_value,
        grouped.concern_category,
        services.service_category,
        -- A row per child: grouped has one per child, group and concern (a child is in a group once,
        -- tested on int_children__grouped; concerns and services are distinct per child), so a
        -- count, not a distinct count (which spilled tens of gigabytes at scale 100).
        count(*) as children_served
    from grouped
    inner join (select distinct case_key, country_code, service_category from implemented) as services
        on services.case_key = grouped.case_key
        and services.country_code = grouped.country_code
    group by grouped.country_group, grouped.dimension, grouped.dimension_value, grouped.concern_category,
        services.service_category
)

select
    concern_figures.country_group as country_code,
    concern_figures.dimension,
    concern_figures.dimension_value,
    concern_figures.concern_category,
    categories.category as service_category,
    cast(concern_figures.children_with_concern as {{ dbt.type_bigint() }}) as children_with_concern,
    cast(coalesce(served.children_served, 0) as {{ dbt.type_bigint() }}) as children_served,
    100.0e0 * coalesce(served.children_served, 0) / concern_figures.children_with_concern as pct_served,
    cast(concern_figures.children_without_service as {{ dbt.type_bigint() }}) as children_without_service,
    100.0e0 * concern_figures.children_without_service / concern_figures.children_with_concern as pct_without_service,
    cast(concern_figures.children_with_service_date as {{ dbt.type_bigint() }}) as children_with_service_date,
    cast(concern_figures.median_days_to_first_service as double) as median_days_to_first_service
from concern_figures
cross join (
    select category from {{ ref('int_categories__listed') }} where dimension = 'service'
) as categories
left join served
    on served.country_group = concern_figures.country_group
    and served.dimension = concern_figures.dimension
    and served.dimension_value = concern_figures.dimension_value
    and served.concern_category = concern_figures.concern_category
    and served.service_category = categories.category
