{#- The Kaplan-Meier curve of mart_time_to_closure on a monthly grid (0 to survival_curve_months
    months after registration, a month being 30.4375 days), per country and ALL and breakdown:
    the estimated share still open with its pointwise 95 % interval (exponential Greenwood), and
    the cases still observed (at risk) at that point. What the report draws. -#}
with

estimated as (
    select * from {{ ref('int_survival__estimated') }}
),

grid as (
    {%- for month in range(0, var('survival_curve_months') + 1) %}
    select {{ month }} as month_number{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

groups as (
    select distinct country_code, dimension, dimension_value from estimated
),

points as (
    select
        groups.country_code,
        groups.dimension,
        groups.dimension_value,
        grid.month_number,
        estimated.time_days,
        estimated.still_open,
        estimated.still_open_lower,
        estimated.still_open_upper,
        row_number() over (
            partition by groups.country_code, groups.dimension, groups.dimension_value, grid.month_number
            order by estimated.time_days desc
        ) as latest_first
    from groups
    cross join grid
    left join estimated
        on estimated.country_code = groups.country_code
        and estimated.dimension = groups.dimension
        and estimated.dimension_value = groups.dimension_value
        and estimated.time_days <= grid.month_number * 30.4375e0
),

observed as (
    {#- Cases still observed at the point: time_days at or after it. #}
    select
        groups.country_code,
        groups.dimension,
        groups.dimension_value,
        grid.month_number,
        sum(case when estimated.time_days >= grid.month_number * 30.4375e0
            then estimated.closures + estimated.censored else 0 end) as at_risk
    from groups
    cross join grid
    inner join estimated
        on estimated.country_code = groups.country_code
        and estimated.dimension = groups.dimension
        and estimated.dimension_value = groups.dimension_value
    group by groups.country_code, groups.dimension, groups.dimension_value, grid.month_number
)

select
    points.country_code,
    points.dimension,
    points.dimension_value,
    cast(points.month_number as {{ dbt.type_bigint() }}) as month_number,
    cast(observed.at_risk as {{ dbt.type_bigint() }}) as at_risk,
    100.0e0 * coalesce(points.still_open, 1.0e0) as still_open_pct,
    100.0e0 * coalesce(points.still_open_lower, 1.0e0) as still_open_lower_pct,
    100.0e0 * coalesce(points.still_open_upper, 1.0e0) as still_open_upper_pct
from points
inner join observed
    on observed.country_code = points.country_code
    and observed.dimension = points.dimension
    and observed.dimension_value = points.dimension_value
    and observed.month_number = points.month_number
where points.latest_first = 1
