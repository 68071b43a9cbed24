{#- Services by concern: for every concern category, the in-scope children with that concern
    (int_case_concerns__distinct; latest exports), per country and ALL, in total and by sex:
    children_served / pct_served: those who received at least one implemented service of the
        service category (every category listed, zero included);
    children_without_service / pct_without_service: those with no implemented service at all;
    median_days_to_first_service: the median of days from registration to the first implemented
        service with a date (services dated before registration left out), over
        children_with_service_date children. The concern-level figures repeat on each service row.

    Counted in cells before groups: each child is counted once in its cell (country, sex group,
    concern, and the days to its first service or the service category) by
    int_concern_services__counted, kept by country, and the cells are summed here into the groups
    of int_children__grouped. The median comes from the cells' histogram of days
    (histogram_median: the value at the middle position, or the mean of the two middle values, as
    median() gives). A median over every child's group rows could not spill to disk and ran out of
    memory at scale 100 (about 54 million rows). -#}
with

group_map as (
    {#- The groups a child of a country and sex group counts in (int_children__grouped): its
        country and ALL, in total and by sex. #}
    select distinct country_code, sex_group, country_group, dimension, dimension_value
    from {{ ref('int_children__grouped') }}
    where dimension in ('total', 'sex')
),

concern_cells as (
    select * from {{ ref('int_concern_services__counted') }}
    where cell = 'first_service'
),

served_cells as (
    select * from {{ ref('int_concern_services__counted') }}
    where cell = 'served'
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

median_days as (
    {{ histogram_median('days_histogram', ['country_group', 'dimension', 'dimension_value', 'concern_category'],
                        'days_to_first_service', 'children') }}
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

served as (
    select
        group_map.country_group,
        group_map.dimension,
        group_map.dimension_value,
        served_cells.concern_category,
        served_cells.service_category,
        sum(served_cells.children) as children_served
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
    cast(coalesce(median_days.values_counted, 0) as {{ dbt.type_bigint() }})
        as children_with_service_date,
    cast(median_days.median_value as double) as median_days_to_first_service
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
