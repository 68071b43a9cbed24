{#- One row per child case: the harmonised row of each record in its country's latest complete
    export, with the derived fields and the study's scope (is_in_scope) of int_cases__derived. -#}
{{ config(**by_country()) }}
select
    case_key,
    country_code,
    export_date,
    registration_date,
    date_closure,
    last_updated_at,
    age_years,
    age_group,
    sex,
    uasc_status,
    displacement_category,
    risk_level,
    care_category,
    status_category,
    is_closed,
    closure_category,
    closure_outcome,
    case_duration_days,
    case_duration_months,
    closure_revised_category,
    closure_legacy_category,
    is_in_scope,
    d1_closed_without_closure_date,
    d2_closure_date_on_open_case,
    d3_closure_before_registration,
    d4_closed_without_reason,
    d5_closure_fields_disagree,
    d6_no_age_no_date_of_birth,
    d7_age_contradicts_date_of_birth,
    d8_adult_at_registration,
    d9_bad_registration_date,
    d10_record_id_repeated,
    d11_value_not_as_listed,
    d13_marked_duplicate
from {{ country_rows('int_cases__resolved') }}
where row_outcome = 'harmonised'
{{ in_country_order() }}
