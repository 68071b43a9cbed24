{#- The business rules of indicators.md ("Derived fields") and the defect flags D1-D9, D11 and
    D13 of exports.md, in plain SQL over the unioned staging shape, for every staged case row of
    every export. D10 (an id twice in one export) and UASC status need other rows and are derived
    in int_cases__resolved. -#}
{{ config(**by_country()) }}
with

cases as (
    select * from {{ country_rows('int_cases__unioned') }}
),

closure_outcomes as (
    select * from {{ ref('closure_outcomes') }}
),

aged as (
    select
        cases.*,
        -- The age from a valid date of birth wins over the recorded age.
        coalesce(age_from_date_of_birth, age_recorded) as age_years,
        status_option_category = 'closed' as is_closed,
        -- NGA's revised closure field first, its legacy field second.
        coalesce(closure_first_category, closure_second_category) as closure_reason_category
    from cases
)

select
    aged.country_code,
    aged.export_date,
    aged.load_id,
    aged.source_file,
    aged.source_row,
    aged.case_key,
    aged.case_link_key,
    aged.last_updated_at,
    aged.registration_date,
    aged.date_closure,
    aged.age_years,
    case
        when aged.age_years is null or aged.age_years < 0 then 'unknown'
        when aged.age_years <= 4 then '0-4'
        when aged.age_years <= 9 then '5-9'
        when aged.age_years <= 14 then '10-14'
        when aged.age_years <= 17 then '15-17'
        else '18_and_over'
    end as age_group,
    aged.status_option_category as status_category,
    coalesce(aged.sex_option_category, 'other_or_unknown') as sex,
    coalesce(aged.displacement_option_category, 'unknown') as displacement_category,
    aged.uasc_option_category as uasc_field_category,
    coalesce(aged.risk_option_category, 'not_assessed') as risk_level,
    aged.care_option_category as care_category,
    aged.is_closed,
    case when aged.is_closed then coalesce(aged.closure_reason_category, 'missing') end as closure_category,
    case when aged.is_closed then coalesce(closure_outcomes.closure_outcome, 'unknown') end as closure_outcome,
    case
        when aged.is_closed and aged.date_closure >= aged.registration_date
            then {{ days_between('aged.registration_date', 'aged.date_closure') }}
    end as case_duration_days,
    case
        when aged.is_closed and aged.date_closure >= aged.registration_date
            then {{ days_between('aged.registration_date', 'aged.date_closure') }} / 30.4375e0
    end as case_duration_months,
    case when aged.has_second_closure_field then aged.closure_first_category end as closure_revised_category,
    aged.closure_second_category as closure_legacy_category,
    aged.displacement_value,
    aged.care_value,
    aged.risk_value,
    aged.uasc_value,
    aged.sex_value,
    aged.status_value,
    aged.is_closed and aged.date_closure is null as d1_closed_without_closure_date,
    not aged.is_closed and aged.date_closure is not null as d2_closure_date_on_open_case,
    aged.is_closed and aged.date_closure < aged.registration_date as d3_closure_before_registration,
    aged.is_closed and aged.closure_reason_category is null as d4_closed_without_reason,
    coalesce(aged.closure_first_category <> aged.closure_second_category, false) as d5_closure_fields_disagree,
    not aged.has_age_text and not aged.has_date_of_birth_text as d6_no_age_no_date_of_birth,
    coalesce(abs(aged.age_recorded - aged.age_from_date_of_birth) > 1, false) as d7_age_contradicts_date_of_birth,
    coalesce(aged.age_years >= 18, false) as d8_adult_at_registration,
    (aged.registration_date is null
        or aged.registration_date < cast('{{ var("study_start") }}' as date)
        or aged.registration_date > aged.export_date) as d9_bad_registration_date,
    not (
        aged.status_is_exact and coalesce(aged.status_option_category, '') <> 'unmapped'
        and aged.sex_is_exact and coalesce(aged.sex_option_category, '') <> 'unmapped'
        and aged.displacement_is_exact and coalesce(aged.displacement_option_category, '') <> 'unmapped'
        and aged.uasc_is_exact and coalesce(aged.uasc_option_category, '') <> 'unmapped'
        and aged.risk_is_exact and coalesce(aged.risk_option_category, '') <> 'unmapped'
        and aged.care_is_exact and coalesce(aged.care_option_category, '') <> 'unmapped'
    ) as d11_value_not_as_listed,
    coalesce(aged.status_option_category = 'duplicate', false) as d13_marked_duplicate,
    -- The study's scope (indicators.md): not marked duplicate, registered within the study period
    -- and not after the export, age unknown or 0-17.
    coalesce(
        coalesce(aged.status_option_category, '') <> 'duplicate'
        and aged.registration_date between cast('{{ var("study_start") }}' as date) and cast('{{ var("study_end") }}' as date)
        and aged.registration_date <= aged.export_date
        and (aged.age_years is null or aged.age_years between 0 and 17),
        false
    ) as is_in_scope
from aged
left join closure_outcomes
    on closure_outcomes.closure_category = coalesce(aged.closure_reason_category, 'missing')
{{ in_country_order() }}
