{#- The Kaplan-Meier estimate of the share of cases still open, per group and day on which a case
    closed or was censored, in portable SQL (window sums, ln, exp, sqrt):
    at_risk n = cases observed for at least that many days; closures d;
    still_open S = product over days up to t of (1 - d/n), as exp of the sum of ln(n - d) - ln(n)
        (0 from the day every case at risk closed);
    greenwood_sum = sum of d / (n (n - d)), Greenwood's variance of ln S;
    the pointwise 95 % interval by the exponential Greenwood (log-log) formula:
        exp(-exp(ln(-ln S) -/+ z sqrt(greenwood_sum) / ln S)), 1 while S is 1.
    These are the formulas of lifelines' KaplanMeierFitter, which the tests compare with. -#}
{%- set z = var('survival_interval_z') -%}
with

tabulated as (
    select * from {{ ref('int_survival__tabulated') }}
    where time_days is not null
),

at_risk as (
    select
        tabulated.*,
        sum(closures + censored) over (
            partition by country_code, dimension, dimension_value
            order by time_days desc
            rows between unbounded preceding and current row
        ) as at_risk
    from tabulated
),

cumulated as (
    select
        at_risk.*,
        sum(case when closures < at_risk then ln(at_risk - closures) - ln(at_risk) else 0 end) over (
            partition by country_code, dimension, dimension_value
            order by time_days
            rows between unbounded preceding and current row
        ) as log_still_open,
        sum(case when closures = at_risk then 1 else 0 end) over (
            partition by country_code, dimension, dimension_value
            order by time_days
            rows between unbounded preceding and current row
        ) as exhausted_steps,
        sum(case when closures < at_risk then 1.0e0 * closures / (1.0e0 * at_risk * (at_risk - closures)) else 0 end) over (
            partition by country_code, dimension, dimension_value
            order by time_days
            rows between unbounded preceding and current row
        ) as greenwood_sum
    from at_risk
)

select
    country_code,
    dimension,
    dimension_value,
    time_days,
    cast(at_risk as {{ dbt.type_bigint() }}) as at_risk,
    closures,
    censored,
    case when exhausted_steps > 0 then 0.0e0 else exp(log_still_open) end as still_open,
    greenwood_sum,
    case
        when exhausted_steps > 0 then 0.0e0
        when log_still_open = 0 then 1.0e0
        else exp(-exp(ln(-log_still_open) - {{ z }} * sqrt(greenwood_sum) / log_still_open))
    end as still_open_lower,
    case
        when exhausted_steps > 0 then 0.0e0
        when log_still_open = 0 then 1.0e0
        else exp(-exp(ln(-log_still_open) + {{ z }} * sqrt(greenwood_sum) / log_still_open))
    end as still_open_upper
from cumulated
