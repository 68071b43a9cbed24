{#- Statistics in portable SQL (exp, sqrt and arithmetic only; rounding is dispatched per engine). -#}

{#- Upper tail of the chi-square distribution with one degree of freedom: erfc(sqrt(x / 2)),
    by the Numerical Recipes erfc approximation (fractional error below 1.2e-7). -#}
{% macro chi_square_1df_p_value(statistic) -%}
    case when {{ statistic }} is null then null else (
        (1.0 / (1.0 + 0.5 * sqrt({{ statistic }} / 2.0))) * exp(
            -({{ statistic }} / 2.0) - 1.26551223 + (1.0 / (1.0 + 0.5 * sqrt({{ statistic }} / 2.0))) * (1.00002368
            + (1.0 / (1.0 + 0.5 * sqrt({{ statistic }} / 2.0))) * (0.37409196
            + (1.0 / (1.0 + 0.5 * sqrt({{ statistic }} / 2.0))) * (0.09678418
            + (1.0 / (1.0 + 0.5 * sqrt({{ statistic }} / 2.0))) * (-0.18628806
            + (1.0 / (1.0 + 0.5 * sqrt({{ statistic }} / 2.0))) * (0.27886807
            + (1.0 / (1.0 + 0.5 * sqrt({{ statistic }} / 2.0))) * (-1.13520398
            + (1.0 / (1.0 + 0.5 * sqrt({{ statistic }} / 2.0))) * (1.48851587
            + (1.0 / (1.0 + 0.5 * sqrt({{ statistic }} / 2.0))) * (-0.82215223
            + (1.0 / (1.0 + 0.5 * sqrt({{ statistic }} / 2.0))) * 0.17087277))))))))
        )
    ) end
{%- endmacro %}

{#- A positive value rounded to `digits` significant digits (zero and null stay as they are). -#}
{% macro significant_digits(expression, digits) -%}
    {{ return(adapter.dispatch('significant_digits', 'cpwh')(expression, digits)) }}
{%- endmacro %}
{% macro default__significant_digits(expression, digits) -%}
    case
        when {{ expression }} > 0
            then round({{ expression }}, {{ digits - 1 }} - cast(floor(log10({{ expression }})) as integer))
        else {{ expression }}
    end
{%- endmacro %}
{#- Spark's round takes a constant scale only: scale by a power of ten, round, scale back. -#}
{% macro spark__significant_digits(expression, digits) -%}
    case
        when {{ expression }} > 0
            then round({{ expression }} * power(10, {{ digits - 1 }} - floor(log10({{ expression }}))))
                / power(10, {{ digits - 1 }} - floor(log10({{ expression }})))
        else {{ expression }}
    end
{%- endmacro %}

{#- The median of each partition of a histogram (one row per value and partition, `weight` the
    number of records with that value): the value at the middle position (0-based) floor((n - 1) / 2),
    or the mean of the two middle values, as median() gives. Columns: the partition's, values_counted
    (n) and median_value. Used where per-country histograms are summed into larger groups (ALL): a
    median cannot be summed, a histogram can. -#}
{% macro histogram_median(histogram, partition_by, value, weight) -%}
    {%- set partition = partition_by | join(', ') -%}
    select
        {{ partition }},
        max(values_counted) as values_counted,
        (
            min(case when weight_up_to > floor((values_counted - 1) / 2.0) then {{ value }} end)
            + min(case when weight_up_to > values_counted - 1 - floor((values_counted - 1) / 2.0)
                then {{ value }} end)
        ) / 2.0e0 as median_value
    from (
        select
            {{ partition }},
            {{ value }},
            sum({{ weight }}) over (
                partition by {{ partition }} order by {{ value }}
                rows between unbounded preceding and current row
            ) as weight_up_to,
            sum({{ weight }}) over (partition by {{ partition }}) as values_counted
        from {{ histogram }}
        where {{ value }} is not null
    ) as ranked
    group by {{ partition }}
{%- endmacro %}
