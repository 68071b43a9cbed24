{#- Services by concern: for every concern category, the in-scope children with that concern
    (int_case_concerns__distinct; latest exports), per country and ALL, in total and by sex:
    children_served / pct_served: those who received at least one implemented service of the
        service category (every category listed, zero included);
    children_without_service / pct_without_service: those with no implemented service at all;
    median_days_to_first_service: the median of days from registration to the first implemented
        service with a date (services dated before registration left out), over
        children_with_service_date children. The concern-level figures repeat on each service row.

    Counted in cells before groups: each child is counted once in its cell (country, sex group,
    concern, and the days to its first service or the service category), and the cells are then
    summed into the groups of int_children__grouped. The median comes from the cells' histogram of
    days (the value at the middle position, or the mean of the two middle values: what median()
    gives). A median over every child's group rows could not spill to disk and ran out of memory
    at scale 100 (about 54 million rows). -#}
with

children as (
    {#- Each in-scope child once: its own country's total row. #}
    select case_key, country_code, sex_group, registration_date
    from {{ ref('int_children__grouped') }}
    where dimension = 'total' and country_group = country_code
),

group_map as (
    {#- The groups a child of a country and sex group counts in (int_children__grouped): its
        country and ALL, in total and by sex. #}
    select distinct country_code, sex_group, country_group, dimension, dimension_value
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
        children.sex_group,
        count(implemented.case_key) as implemented_services,
        min(case when implemented.service_date >= children.registration_date
            then {{ days_between('children.registration_date', 'implemented.service_date') }} end)
            as days_to_first_service
    from children
    left join implemented
        on implemented.case_key = children.case_key
        and implemented.country_code = children.country_code
    group by children.case_key, children.country_code, children.sex_group
),

concerned as (
    select
        first_service.case_key,
        first_service.country_code,
        first_service.sex_group,
        concerns.concern_category,
        first_service.implemented_services,
        first_service.days_to_first_service
    from first_service
    inner join {{ ref('int_case_concerns__distinct') }} as concerns
        on concerns.case_key = first_service.case_key
        and concerns.country_code = first_service.country_code
),

concern_cells as (
    select
        country_code,
        sex_group,
        concern_category,
        days_to_first_service,
        count(*) as children,
        sum(case when implemented_services = 0 then 1 else 0 end) as children_without_service
    from concerned
    group by country_code, sex_group, concern_category, days_to_first_service
),

days_histogram as (
    select
        group_map.country_group,
        group_map.dimension,
        group_map.dimension_value,
        concern_cells.concern_category,
        concern_cells.days_to_first_service,
        sum(concern_cells.children) as children,
        sum(concern_cells.children_without_service) as children_without_service
    from concern_cells
    inner join group_map
        on group_map.country_code = concern_cells.country_code
        and group_map.sex_group = concern_cells.sex_group
    group by group_map.country_group, group_map.dimension, group_map.dimension_value,
        concern_cells.concern_category, concern_cells.days_to_first_service
),

days_ranked as (
    {#- Children with a service date up to and including each value of days, and their number. #}
    select
        days_histogram.*,
        sum(children) over (
            partition by country_group, dimension, dimension_value, concern_category
            order by days_to_first_service
            rows between unbounded preceding and current row
        ) as children_up_to,
        sum(children) over (
            partition by country_group, dimension, dimension_value, concern_category
        ) as children_with_service_date
    from days_histogram
    where days_to_first_service is not null
),

median_days as (
    {#- The values at the middle positions (0-based) floor((n - 1) / 2) and n - 1 - that. #}
    select
        country_group,
        dimension,
        dimension_value,
        concern_category,
        max(children_with_service_date) as children_with_service_date,
        (
            min(case when children_up_to > floor((children_with_service_date - 1) / 2.0)
                then days_to_first_service end)
            + min(case when children_up_to > children_with_service_date - 1
                    - floor((children_with_service_date - 1) / 2.0)
                then days_to_first_service end)
        ) / 2.0e0 as median_days_to_first_service
    from days_ranked
    group by country_group, dimension, dimension_value, concern_category
),

concern_figures as (
    select
        country_group,
        dimension,
        dimension_value,
        concern_category,
        sum(children) as children_with_concern,
        sum(children_without_service) as children_without_service
    from days_histogram
    group by country_group, dimension, dimension_value, concern_category
),

served_cells as (
    {#- A child counts once per concern and service category: concerns and services are made
        distinct per child here and in int_case_concerns__distinct. #}
    select
        concerned.country_code,
        concerned.sex_group,
        concerned.concern_category,
        services.service_category,
        count(*) as children_served
    from concerned
    inner join (select distinct case_key, country_code, service_category from implemented) as services
        on services.case_key = concerned.case_key
        and services.country_code = concerned.country_code
    group by concerned.country_code, concerned.sex_group, concerned.concern_category,
        services.service_category
),

served as (
    select
        group_map.country_group,
        group_map.dimension,
        group_map.dimension_value,
        served_cells.concern_category,
        served_cells.service_category,
        sum(served_cells.children_served) as children_served
    from served_cells
    inner join group_map
        on group_map.country_code = served_cells.country_code
        and group_map.sex_group = served_cells.sex_group
    group by group_map.country_group, group_map.dimension, group_map.dimension_value,
        served_cells.concern_category, served_cells.service_category
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
    cast(coalesce(median_days.children_with_service_date, 0) as {{ dbt.type_bigint() }})
        as children_with_service_date,
    cast(median_days.median_days_to_first_service as double) as median_days_to_first_service
from concern_figures
cross join (
    select category from {{ ref('int_categories__listed') }} where dimension = 'service'
) as categories
left join median_days
    on median_days.country_group = concern_figures.country_group
    and median_days.dimension = concern_figures.dimension
    and median_days.dimension_value = concern_figures.dimension_value
    and median_days.concern_category = concern_figures.concern_category
left join served
    on served.country_group = concern_figures.country_group
    and served.dimension = concern_figures.dimension
    and served.dimension_value = concern_figures.dimension_value
    and served.concern_category = concern_figures.concern_category
    and served.service_category = categories.category
