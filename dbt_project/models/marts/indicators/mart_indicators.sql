{#- The review's indicators (indicators.md), long: one row per indicator, country (and ALL),
    dimension and value. Each figure carries its numerator and denominator (for means: sum and
    count). `suppressed` marks the small cells; the values stay here for the pipeline's own checks
    and only the published copy hides them (orchestration/publish.py). -#}
{%- set by_sex_and_age = ['total', 'sex', 'age_group'] -%}
{#- (indicator, numerator, denominator, unit, dimensions) over the child-level figures -#}
{%- set child_indicators = [
    ('children_in_scope', 'children', 'null', 'count', ['total']),
    ('mean_age_years', 'age_sum', 'age_known', 'years', ['total', 'sex']),
    ('pct_male', 'males', 'males + females', 'percent', ['total']),
    ('pct_female', 'females', 'males + females', 'percent', ['total']),
    ('pct_uasc', 'uasc', 'children', 'percent', by_sex_and_age),
    ('pct_unaccompanied', 'unaccompanied', 'children', 'percent', ['total']),
    ('pct_separated', 'separated', 'children', 'percent', ['total']),
    ('mean_age_uasc_years', 'uasc_age_sum', 'uasc_age_known', 'years', ['total']),
    ('pct_male_among_uasc', 'uasc_males', 'uasc_known_sex', 'percent', ['total']),
    ('pct_care_family', 'care_family', 'care_mapped', 'percent', ['total']),
    ('pct_closed', 'closed', 'children', 'percent', ['total']),
    ('mean_case_duration_months', 'duration_sum', 'duration_known', 'months', ['total']),
    ('median_case_duration_months', 'null', 'duration_known', 'months', ['total']),
    ('pct_closed_positive_outcome', 'positive', 'rated_outcome', 'percent', ['total']),
] -%}
{#- (indicator prefix, category column, which children form the denominator, categories) -#}
{%- set child_shares = [
    ('pct_displacement__', 'displacement_category', 'true', 'displacement_categories'),
    ('pct_risk__', 'risk_level', 'true', 'risk_categories'),
    ('pct_care__', 'care_category', "care_category is not null and care_category <> 'unmapped'", 'care_categories'),
    ('pct_closure__', 'closure_category', 'is_closed', 'closure_categories'),
] -%}
with

groups as (
    select * from {{ ref('int_indicator_groups') }}
),

displacement_categories as (
    select distinct category from {{ ref('categorisation') }} where field = 'displacement_status'
    union select 'unknown' union select 'unmapped'
),

risk_categories as (
    select 'high' as category union select 'medium' union select 'low' union select 'not_assessed'
),

care_categories as (
    select care_category as category from {{ ref('dim_care_category') }} where care_category <> 'unmapped'
),

closure_categories as (
    select closure_category as category from {{ ref('dim_closure_category') }}
),

child_figures as (
    select
        country_group,
        dimension,
        dimension_value,
        count(*) as children,
        sum(age_years) as age_sum,
        count(age_years) as age_known,
        sum(case when sex = 'male' then 1 else 0 end) as males,
        sum(case when sex = 'female' then 1 else 0 end) as females,
        sum(case when uasc_status <> 'not_uasc' then 1 else 0 end) as uasc,
        sum(case when uasc_status = 'unaccompanied' then 1 else 0 end) as unaccompanied,
        sum(case when uasc_status = 'separated' then 1 else 0 end) as separated,
        sum(case when uasc_status <> 'not_uasc' then age_years end) as uasc_age_sum,
        count(case when uasc_status <> 'not_uasc' then age_years end) as uasc_age_known,
        sum(case when uasc_status <> 'not_uasc' and sex = 'male' then 1 else 0 end) as uasc_males,
        sum(case when uasc_status <> 'not_uasc' and sex in ('male', 'female') then 1 else 0 end) as uasc_known_sex,
        sum(case when care_category is not null and care_category <> 'unmapped' then 1 else 0 end) as care_mapped,
        sum(case when care_category in ('parents', 'kinship_care') then 1 else 0 end) as care_family,
        sum(case when is_closed then 1 else 0 end) as closed,
        -- Whole days are summed (exact, in any order) and turned into months once: a sum of
        -- fractional months depends on the order the engine's threads add them in.
        cast(sum(case_duration_days) as double) / 30.4375 as duration_sum,
        count(case_duration_months) as duration_known,
        {{ median_of('case_duration_months') }} as duration_median,
        sum(case when closure_outcome = 'positive' then 1 else 0 end) as positive,
        sum(case when closure_outcome in ('positive', 'neutral', 'negative') then 1 else 0 end) as rated_outcome
    from groups
    group by country_group, dimension, dimension_value
),

child_rows as (
    {%- for indicator, numerator, denominator, unit, dimensions in child_indicators %}
    select
        '{{ indicator }}' as indicator_id,
        country_group as country_code,
        dimension,
        dimension_value,
        cast({{ numerator }} as double) as numerator,
        cast(({{ denominator }}) as double) as denominator,
        {%- if indicator == 'median_case_duration_months' %}
        duration_median as value,
        {%- elif unit == 'count' %}
        cast({{ numerator }} as double) as value,
        {%- elif unit == 'percent' %}
        case when ({{ denominator }}) > 0 then 100.0 * {{ numerator }} / ({{ denominator }}) end as value,
        {%- else %}
        case when ({{ denominator }}) > 0 then 1.0 * {{ numerator }} / ({{ denominator }}) end as value,
        {%- endif %}
        '{{ unit }}' as unit
    from child_figures
    where dimension in ('{{ dimensions | join("', '") }}')
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

share_rows as (
    {%- for prefix, column, population, categories in child_shares %}
    {{ category_share_rows(
        prefix,
        "(select * from groups where dimension = 'total' and " ~ population ~ ")",
        column, categories, 'category'
    ) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

concern_records as (
    select groups.country_group, groups.dimension, groups.dimension_value, concerns.case_key,
        concerns.concern_category
    from {{ ref('fct_case_concerns') }} as concerns
    inner join groups
        on groups.case_key = concerns.case_key
),

concern_rows as (
    {{ category_share_rows('pct_concern__', 'concern_records', 'concern_category', ref('dim_concern_category'),
                           'concern_category') }}
    union all
    {{ category_share_rows('pct_children_with_concern__', 'concern_records', 'concern_category',
                           ref('dim_concern_category'), 'concern_category', 'count(distinct case_key)') }}
),

service_records as (
    select groups.country_group, groups.dimension, groups.dimension_value, services.service_category
    from {{ ref('fct_case_services') }} as services
    inner join groups
        on groups.case_key = services.case_key
        and groups.dimension = 'total'
    where services.is_implemented
),

service_rows as (
    {{ category_share_rows('pct_service__', 'service_records', 'service_category', ref('dim_service_category'),
                           'service_category') }}
),

quality as (
    select country_code, check_id, affected_rows, denominator_rows
    from {{ ref('mart_data_quality') }}
    where is_latest_export and check_kind = 'defect'
    union all
    select 'ALL' as country_code, check_id, sum(affected_rows), sum(denominator_rows)
    from {{ ref('mart_data_quality') }}
    where is_latest_export and check_kind = 'defect'
    group by check_id
),

quality_rows as (
    select
        'dq_pct__' || check_id as indicator_id,
        country_code,
        'total' as dimension,
        'total' as dimension_value,
        cast(affected_rows as double) as numerator,
        cast(denominator_rows as double) as denominator,
        case when denominator_rows > 0 then 100.0 * affected_rows / denominator_rows end as value,
        'percent' as unit
    from quality
),

indicators as (
    select * from child_rows
    union all select * from share_rows
    union all select * from concern_rows
    union all select * from service_rows
    union all select * from quality_rows
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
    is_small_cell
        or (dimension <> 'total' and small_in_breakdown = 1 and rank_in_breakdown = 1)
        or (indicator_family <> indicator_id and indicator_family <> 'dq_pct' and family_size > 1
            and small_in_family = 1 and rank_in_family = 1)
        as suppressed
from siblings
