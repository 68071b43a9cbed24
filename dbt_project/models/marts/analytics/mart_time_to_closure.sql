{#- Time to closure with open cases censored (Kaplan-Meier, int_survival__estimated), per country
    and ALL, in total, by sex, age group and risk level, beside the review's mean over closed
    cases only, so the bias of that mean is visible.
    still_open_<m>m_pct: the estimated share of cases still open m months (m x 30.4375 days)
        after registration;
    median_days: the first day on which the estimate is 0.5 or less (null: not reached in the
        follow-up);
    median_lower_days, median_upper_days: its 95 % interval, read off the pointwise exponential
        Greenwood band where it crosses 0.5 (Brookmeyer-Crowley style, as lifelines'
        median_survival_times of the confidence interval): the lower limit is the first day the
        band's lower edge is 0.5 or less, the upper limit the first day its upper edge is (null:
        not reached in the follow-up);
    mean_closed_months: the review's mean duration over closed cases with a valid duration. -#}
with

tabulated as (
    select * from {{ ref('int_survival__tabulated') }}
),

estimated as (
    select * from {{ ref('int_survival__estimated') }}
),

totals as (
    select
        country_code,
        dimension,
        dimension_value,
        sum(closures + censored + closed_without_duration) as cases,
        sum(closures) as closures,
        sum(censored) as censored,
        sum(closed_without_duration) as closed_without_duration,
        sum(closures * time_days) as closed_days
    from tabulated
    group by country_code, dimension, dimension_value
),

{#- The estimate is a product of fractions computed through logarithms, so a step that is exactly
    one half (5/6 x 4/5 x 3/4) comes out a few 1e-17 above or below it, depending on the engine's
    ln and exp: "reaches one half" allows 1e-9 for that. -#}
medians as (
    select
        country_code,
        dimension,
        dimension_value,
        min(case when still_open <= 0.5 + 1e-9 then time_days end) as median_days,
        min(case when still_open_lower <= 0.5 + 1e-9 then time_days end) as median_lower_days,
        min(case when still_open_upper <= 0.5 + 1e-9 then time_days end) as median_upper_days
    from estimated
    group by country_code, dimension, dimension_value
),

shares as (
    {#- The still-open shares at the months: the curve's points there (mart_time_to_closure_curve,
        the estimate on the last day at or before each month). #}
    select
        country_code,
        dimension,
        dimension_value,
        {%- for months in var('survival_months') %}
        {%- if months not in range(0, var('survival_curve_months') + 1) %}
        {{ exceptions.raise_compiler_error("survival_months must be whole months of the curve (0 to survival_curve_months)") }}
        {%- endif %}
        max(case when month_number = {{ months }} then still_open_pct end) as still_open_{{ months }}m_pct
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('mart_time_to_closure_curve') }}
    group by country_code, dimension, dimension_value
),

final as (
    select
        totals.country_code,
        totals.dimension,
        totals.dimension_value,
        cast(totals.cases as {{ dbt.type_bigint() }}) as cases,
        cast(totals.closures as {{ dbt.type_bigint() }}) as closures,
        cast(totals.censored as {{ dbt.type_bigint() }}) as censored,
        cast(totals.closed_without_duration as {{ dbt.type_bigint() }}) as closed_without_duration,
        {%- for months in var('survival_months') %}
        shares.still_open_{{ months }}m_pct,
        {%- endfor %}
        cast(medians.median_days as {{ dbt.type_bigint() }}) as median_days,
        cast(medians.median_lower_days as {{ dbt.type_bigint() }}) as median_lower_days,
        cast(medians.median_upper_days as {{ dbt.type_bigint() }}) as median_upper_days,
        medians.median_days / 30.4375e0 as median_months,
        case when totals.closures > 0 then 1.0e0 * totals.closed_days / totals.closures / 30.4375e0 end
            as mean_closed_months
    from totals
    left join medians
        on medians.country_code = totals.country_code
        and medians.dimension = totals.dimension
        and medians.dimension_value = totals.dimension_value
    left join shares
        on shares.country_code = totals.country_code
        and shares.dimension = totals.dimension
        and shares.dimension_value = totals.dimension_value
)

select * from final
