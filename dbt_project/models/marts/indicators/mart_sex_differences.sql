{#- For each country (and ALL) and concern category: prevalence among boys and among girls with at
    least one concern, the difference in percentage points, Pearson's chi-square on the 2x2 table
    (no continuity correction), its p-value, and significance at 0.05 after a Benjamini-Hochberg
    correction across the whole table. p-values are published to 6 significant digits, the
    precision chi_square_1df_p_value's approximation supports (fractional error below 1.2e-7); the
    correction and the significance use the unrounded values. How the review's statements (boys more exposed to child
    labour and recruitment, girls to sexual violence) are checked on data. -#}
with

counted as (
    {#- Per country (int_concerns_by_sex__counted, kept by country), and ALL as their sum: each child
        counts in one country. concern_category null: the children with any concern. #}
    select country_code as country_group, concern_category, boys, girls
    from {{ ref('int_concerns_by_sex__counted') }}
    union all
    select 'ALL' as country_group, concern_category, sum(boys) as boys, sum(girls) as girls
    from {{ ref('int_concerns_by_sex__counted') }}
    group by concern_category
),

totals as (
    select country_group, boys, girls
    from counted
    where concern_category is null
),

exposed as (
    select country_group, concern_category, boys as boys_with, girls as girls_with
    from counted
    where concern_category is not null
),

tables as (
    select
        totals.country_group as country_code,
        categories.concern_category,
        cast(totals.boys as double) as boys,
        cast(totals.girls as double) as girls,
        cast(coalesce(exposed.boys_with, 0) as double) as boys_with,
        cast(coalesce(exposed.girls_with, 0) as double) as girls_with
    from totals
    cross join {{ ref('dim_concern_category') }} as categories
    left join exposed
        on exposed.country_group = totals.country_group
        and exposed.concern_category = categories.concern_category
    where totals.boys > 0 and totals.girls > 0
),

tested as (
    select
        tables.*,
        case
            when boys_with + girls_with > 0 and boys_with + girls_with < boys + girls then
                (boys + girls) * power(boys_with * (girls - girls_with) - girls_with * (boys - boys_with), 2)
                / ((boys_with + girls_with) * ((boys + girls) - (boys_with + girls_with)) * boys * girls)
        end as chi_square
    from tables
),

with_p as (
    select tested.*, {{ chi_square_1df_p_value('chi_square') }} as p_value
    from tested
),

ranked as (
    select
        with_p.*,
        count(p_value) over () as tests,
        row_number() over (order by p_value desc nulls last) as descending_rank
    from with_p
),

adjusted as (
    select
        ranked.*,
        least(1.0e0, min(p_value * tests / (tests - descending_rank + 1)) over (
            order by p_value desc nulls last rows between unbounded preceding and current row
        )) as p_value_bh
    from ranked
)

select
    country_code,
    concern_category,
    cast(boys as {{ dbt.type_bigint() }}) as boys_with_any_concern,
    cast(girls as {{ dbt.type_bigint() }}) as girls_with_any_concern,
    cast(boys_with as {{ dbt.type_bigint() }}) as boys_with,
    cast(girls_with as {{ dbt.type_bigint() }}) as girls_with,
    100.0e0 * boys_with / boys as prevalence_boys_pct,
    100.0e0 * girls_with / girls as prevalence_girls_pct,
    100.0e0 * boys_with / boys - 100.0e0 * girls_with / girls as difference_pp,
    chi_square,
    {{ significant_digits('p_value', 6) }} as p_value,
    case when p_value is not null then {{ significant_digits('p_value_bh', 6) }} end as p_value_bh,
    coalesce(p_value_bh <= 0.05 and p_value is not null, false) as is_significant,
    case
        when coalesce(p_value_bh <= 0.05 and p_value is not null, false)
            then case when boys_with / boys > girls_with / girls then 'boys' else 'girls' end
    end as more_exposed
from adjusted
