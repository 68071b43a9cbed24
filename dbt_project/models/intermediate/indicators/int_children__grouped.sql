{#- In-scope children and the groups they count in: their country and ALL, each for the total,
    their sex and their age group (the S/A breakdowns of indicators.md). An indicator is the
    same aggregate over every group, so it is written once; the analyses beyond the review
    (time to closure, services by concern) take their groups from here too.

    A view: the six group rows of a child (a cross join with the six kinds of group) are made
    while the aggregates read them, never written. As a table kept by country it was the largest
    model of a build (scale 10: 5.5 million rows, 12-13 s of a dbt step of about 70 s), and one
    country's new export rewrote that country's share of it. -#}
{{ config(materialized='view') }}
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
    from {{ ref('int_cases__resolved') }}
    where row_outcome = 'harmonised' and is_in_scope
),

group_kinds as (
    {#- A child counts in its country or in ALL, in the total, its sex or its age group. #}
    {%- for is_all, dimension in [('false', 'total'), ('false', 'sex'), ('false', 'age_group'),
                                  ('true', 'total'), ('true', 'sex'), ('true', 'age_group')] %}
    select {{ is_all }} as is_all, '{{ dimension }}' as dimension
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    children.*,
    case when group_kinds.is_all then 'ALL' else children.country_code end as country_group,
    group_kinds.dimension,
    case group_kinds.dimension
        when 'sex' then children.sex_group
        when 'age_group' then children.age_group
        else 'total'
    end as dimension_value
from children
cross join group_kinds
