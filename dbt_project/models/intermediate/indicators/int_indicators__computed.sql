{#- Every indicator of indicators.md for every country and ALL, dimension and value, before
    small-cell suppression (int_indicators__suppressed). A country's rows are its own
    (int_country_indicators__computed, kept by country); ALL's numerators and denominators are the sums
    of the countries' (each child counts in one country), and its value is made from them by the
    same formula. ALL's median duration is read from the sum of the countries' histograms
    (int_case_durations__counted). The data-quality shares count every row of the latest exports. -#}
with

by_country as (
    select * from {{ ref('int_country_indicators__computed') }}
),

all_durations as (
    select dimension, dimension_value, case_duration_months, sum(children) as children
    from {{ ref('int_case_durations__counted') }}
    group by dimension, dimension_value, case_duration_months
),

all_medians as (
    {{ histogram_median('all_durations', ['dimension', 'dimension_value'], 'case_duration_months', 'children') }}
),

all_figures as (
    select
        indicator_id,
        dimension,
        dimension_value,
        statistic,
        unit,
        cast(sum(numerator) as {{ dbt.type_bigint() }}) as numerator,
        cast(sum(denominator) as {{ dbt.type_bigint() }}) as denominator
    from by_country
    group by indicator_id, dimension, dimension_value, statistic, unit
),

all_rows as (
    select
        all_figures.indicator_id,
        'ALL' as country_code,
        all_figures.dimension,
        all_figures.dimension_value,
        all_figures.numerator,
        all_figures.denominator,
        {{ indicator_value('all_figures.statistic', 'all_figures.unit', 'all_figures.numerator',
                           'all_figures.denominator', 'all_medians.median_value') }} as value,
        all_figures.unit
    from all_figures
    left join all_medians
        on all_figures.statistic = 'median'
        and all_medians.dimension = all_figures.dimension
        and all_medians.dimension_value = all_figures.dimension_value
),

defects as (
    select country_code, check_id, affected_rows, denominator_rows
    from {{ ref('int_quality_checks__counted') }}
    where is_latest_export and check_kind = 'defect'
    union all
    select 'ALL' as country_code, check_id, sum(affected_rows), sum(denominator_rows)
    from {{ ref('int_quality_checks__counted') }}
    where is_latest_export and check_kind = 'defect'
    group by check_id
),

quality_rows as (
    select
        'dq_pct__' || check_id as indicator_id,
        country_code,
        'total' as dimension,
        'total' as dimension_value,
        cast(affected_rows as {{ dbt.type_bigint() }}) as numerator,
        cast(denominator_rows as {{ dbt.type_bigint() }}) as denominator,
        case when denominator_rows > 0 then 100.0e0 * affected_rows / denominator_rows end as value,
        'percent' as unit
    from defects
)

select indicator_id, country_code, dimension, dimension_value, numerator, denominator, value, unit
from by_country
union all select * from all_rows
union all select * from quality_rows
