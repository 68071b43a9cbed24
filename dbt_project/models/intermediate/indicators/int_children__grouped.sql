{#- In-scope children and the groups they count in: their country and ALL, each for the total,
    their sex and their age group (the S/A breakdowns of indicators.md). An indicator is the
    same aggregate over every group, so it is written once; the analyses beyond the review
    (time to closure, services by concern) take their groups from here too. -#}
{{ config(**by_country()) }}
with

children as (
    select
        case_key,
        country_code,
        registration_date,
        {{ days_between('registration_date', 'export_date') }} as days_to_export,
        case when sex in ('male', 'female') then sex else 'other_or_unknown' end as sex_group,
        age_group,
        age_years,
        sex,
        uasc_status,
        displacement_category,
        risk_level,
        care_category,
        is_closed,
        closure_category,
        closure_outcome,
        case_duration_days,
        case_duration_months,
        -- Primero's own case duration bands (days from registration to closure).
        case
            when case_duration_days is null then null
            when case_duration_days <= 30 then 'up_to_30_days'
            when case_duration_days <= 90 then '31_to_90_days'
            when case_duration_days <= 180 then '91_to_180_days'
            else 'over_180_days'
        end as duration_band
    from {{ country_rows('int_cases__resolved') }}
    where row_outcome = 'harmonised' and is_in_scope
),

countries as (
    select children.*, country_code as country_group from children
    union all
    select children.*, 'ALL' as country_group from children
)

select countries.*, 'total' as dimension, 'total' as dimension_value from countries
union all
select countries.*, 'sex' as dimension, sex_group as dimension_value from countries
union all
select countries.*, 'age_group' as dimension, age_group as dimension_value from countries
{{ in_country_order() }}
