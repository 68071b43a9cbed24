{#- Every indicator of indicators.md for each country's own groups (its total, sex and age groups;
    ALL is summed from these rows in int_indicators__computed), before small-cell suppression. The
    figures counted per group are joined to the indicator registry (the indicator_registry seed):
    an indicator over figures already counted here is one seed row. The families of category
    shares are one row per category of their dimension table. Numerators and denominators are whole
    numbers: counts, or for means the sum in whole units (years; days for the duration, whose value
    is in months), so that ALL's are their sums over the countries; statistic says how the value
    is made from them.

    Kept by country: one country's next export recomputes that country's rows, and ALL is summed
    from a few thousand rows instead of counted again over every child (scale 10: about 3.5 s of
    an incremental dbt step of about 25 s). -#}
{{ config(**by_country()) }}
{%- set counted_figures = ['children', 'age_sum', 'age_known', 'males', 'females', 'sex_known', 'uasc', 'unaccompanied',
                           'separated', 'uasc_age_sum', 'uasc_age_known', 'uasc_males', 'uasc_sex_known',
                           'care_mapped', 'care_family', 'closed', 'duration_days', 'duration_known', 'positive',
                           'rated_outcome'] -%}
with

groups as {{ inlined_cte() }} (
    {#- The children of the rebuilt countries, each in its own country's groups. #}
    select * from {{ own_country_groups() }} as grouped
),

concerns as {{ inlined_cte() }} (
    select * from {{ country_rows('int_case_concerns__distinct') }} as concerns
),

registry as (
    select * from {{ ref('indicator_registry') }}
),

figures as (
    select
        country_group,
        dimension,
        dimension_value,
        count(*) as children,
        sum(age_years) as age_sum,
        count(age_years) as age_known,
        sum(case when sex = 'male' then 1 else 0 end) as males,
        sum(case when sex = 'female' then 1 else 0 end) as females,
        sum(case when sex in ('male', 'female') then 1 else 0 end) as sex_known,
        sum(case when uasc_status <> 'not_uasc' then 1 else 0 end) as uasc,
        sum(case when uasc_status = 'unaccompanied' then 1 else 0 end) as unaccompanied,
        sum(case when uasc_status = 'separated' then 1 else 0 end) as separated,
        sum(case when uasc_status <> 'not_uasc' then age_years end) as uasc_age_sum,
        count(case when uasc_status <> 'not_uasc' then age_years end) as uasc_age_known,
        sum(case when uasc_status <> 'not_uasc' and sex = 'male' then 1 else 0 end) as uasc_males,
        sum(case when uasc_status <> 'not_uasc' and sex in ('male', 'female') then 1 else 0 end) as uasc_sex_known,
        sum(case when care_category is not null and care_category <> 'unmapped' then 1 else 0 end) as care_mapped,
        sum(case when care_category in ('parents', 'kinship_care') then 1 else 0 end) as care_family,
        sum(case when is_closed then 1 else 0 end) as closed,
        -- Whole days are summed (exact, in any order); the value turns them into months once.
        sum(case_duration_days) as duration_days,
        count(case_duration_days) as duration_known,
        {{ median_of('case_duration_months') }} as duration_median,
        sum(case when closure_outcome = 'positive' then 1 else 0 end) as positive,
        sum(case when closure_outcome in ('positive', 'neutral', 'negative') then 1 else 0 end) as rated_outcome
    from groups
    group by country_group, dimension, dimension_value
),

counted as (
    {#- The counted figures, long: one row per group and figure. #}
    {%- for figure in counted_figures %}
    select country_group, dimension, dimension_value, '{{ figure }}' as figure,
        cast({{ figure }} as {{ dbt.type_bigint() }}) as amount
    from figures
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

medians as (
    {#- The medians, long like the counts (a median has no numerator to publish). #}
    select country_group, dimension, dimension_value, 'case_duration_months' as figure, duration_median as amount
    from figures
),

figure_rows as (
    select
        registry.indicator_id,
        figures.country_group as country_code,
        figures.dimension,
        figures.dimension_value,
        case when registry.statistic <> 'median' then numerators.amount end as numerator,
        denominators.amount as denominator,
        {{ indicator_value('registry.statistic', 'registry.unit', 'numerators.amount', 'denominators.amount',
                           'medians.amount') }} as value,
        registry.unit,
        registry.statistic
    from registry
    inner join figures
        on figures.dimension = 'total'
        or (figures.dimension = 'sex' and registry.by_sex)
        or (figures.dimension = 'age_group' and registry.by_age_group)
    left join counted as numerators
        on registry.statistic <> 'median'
        and numerators.figure = registry.numerator
        and numerators.country_group = figures.country_group
        and numerators.dimension = figures.dimension
        and numerators.dimension_value = figures.dimension_value
    left join counted as denominators
        on denominators.figure = registry.denominator
        and denominators.country_group = figures.country_group
        and denominators.dimension = figures.dimension
        and denominators.dimension_value = figures.dimension_value
    left join medians
        on registry.statistic = 'median'
        and medians.figure = registry.numerator
        and medians.country_group = figures.country_group
        and medians.dimension = figures.dimension
        and medians.dimension_value = figures.dimension_value
    where registry.statistic in ('count', 'share', 'mean', 'median')
),

share_rows as (
    {{ category_share_rows('pct_displacement__', "(select * from groups where dimension = 'total')",
                           'displacement_category', 'displacement') }}
    union all
    {{ category_share_rows('pct_risk__', "(select * from groups where dimension = 'total')", 'risk_level', 'risk') }}
    union all
    {{ category_share_rows('pct_care__', "(select * from groups where dimension = 'total' and care_category is not null"
                           ~ " and care_category <> 'unmapped')", 'care_category', 'care') }}
    union all
    {{ category_share_rows('pct_closure__', "(select * from groups where dimension = 'total' and is_closed)",
                           'closure_category', 'closure') }}
    union all
    {{ category_share_rows('pct_duration_band__', "(select * from groups where dimension = 'total'"
                           ~ " and duration_band is not null)", 'duration_band', 'duration_band') }}
),

concern_records as (
    select groups.country_group, groups.dimension, groups.dimension_value, concerns.case_key,
        concerns.concern_category
    from concerns
    inner join groups
        on groups.case_key = concerns.case_key
),

concerned_children as (
    {#- The group's children with at least one concern. A child is in a group once (the grouping's
        uniqueness test), so this counts children, where a distinct count over their concern
        records held every group's keys at once (scale 100: tens of gigabytes spilled). -#}
    select country_group, dimension, dimension_value, count(*) as records
    from groups
    where case_key in (select case_key from concerns)
    group by country_group, dimension, dimension_value
),

concern_rows as (
    {{ category_share_rows('pct_concern__', 'concern_records', 'concern_category', 'concern') }}
    union all
    {{ category_share_rows('pct_children_with_concern__', 'concern_records', 'concern_category', 'concern',
                           denominators='concerned_children') }}
),

service_records as (
    select groups.country_group, groups.dimension, groups.dimension_value, services.service_category
    from {{ country_rows('int_services__resolved') }} as services
    inner join groups
        on groups.case_key = services.case_key
        and groups.dimension = 'total'
    where services.row_outcome = 'harmonised' and services.is_implemented
),

service_rows as (
    {{ category_share_rows('pct_service__', 'service_records', 'service_category', 'service') }}
)

select * from figure_rows
union all select *, 'share' as statistic from share_rows
union all select *, 'share' as statistic from concern_rows
union all select *, 'share' as statistic from service_rows
