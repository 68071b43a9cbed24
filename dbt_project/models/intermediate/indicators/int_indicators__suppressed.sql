{#- The small-cell rule of indicators.md over every computed indicator (int_indicators__computed).
    A cell whose numerator or denominator is 1..small_cell_limit (1..sensitive_small_cell_limit for
    the sensitive concern categories; vars in dbt_project.yml, defined once) is small. Where one
    hidden cell could be recomputed from its published siblings and their total (a sex or age
    breakdown, or a family of shares of one whole), the smallest published sibling is hidden too.
    `suppressed` marks both; the values stay here for the pipeline's own checks and only the
    published copy hides them. -#}
with

indicators as (
    select * from {{ ref('int_indicators__computed') }}
),

primary_suppression as (
    select
        indicators.*,
        {#- The small-cell rule is defined once, as vars in dbt_project.yml. #}
        case
            {%- for category in var('sensitive_categories') %}
            when indicator_id like '%{{ category }}' then {{ var('sensitive_small_cell_limit') }}
            {%- endfor %}
            else {{ var('small_cell_limit') }}
        end as small_cell_limit,
        {{ dbt.split_part('indicator_id', "'__'", 1) }} as indicator_family
    from indicators
),

flagged as (
    select
        primary_suppression.*,
        coalesce(numerator between 1 and small_cell_limit, false)
            or coalesce(denominator between 1 and small_cell_limit, false) as is_small_cell
    from primary_suppression
),

siblings as (
    {#- A breakdown (sex, age group) or a family of shares with one hidden cell would let the
        hidden one be recomputed from the total: the smallest published sibling is hidden too. -#}
    select
        flagged.*,
        sum(case when is_small_cell then 1 else 0 end)
            over (partition by indicator_id, country_code, dimension) as small_in_breakdown,
        row_number() over (
            partition by indicator_id, country_code, dimension
            order by case when is_small_cell then 1 else 0 end, numerator, dimension_value
        ) as rank_in_breakdown,
        sum(case when is_small_cell then 1 else 0 end)
            over (partition by indicator_family, country_code, dimension, dimension_value) as small_in_family,
        count(*) over (partition by indicator_family, country_code, dimension, dimension_value) as family_size,
        row_number() over (
            partition by indicator_family, country_code, dimension, dimension_value
            order by case when is_small_cell then 1 else 0 end, numerator, indicator_id
        ) as rank_in_family
    from flagged
)

select
    indicator_id,
    country_code,
    dimension,
    dimension_value,
    numerator,
    denominator,
    value,
    unit,
    small_cell_limit,
    is_small_cell,
    is_small_cell
        or (dimension <> 'total' and small_in_breakdown = 1 and rank_in_breakdown = 1)
        or (indicator_family <> indicator_id and indicator_family <> 'dq_pct' and family_size > 1
            and small_in_family = 1 and rank_in_family = 1)
        as suppressed
from siblings
