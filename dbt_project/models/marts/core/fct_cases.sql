{#- One row per child case: the harmonised row of each record in its country's latest complete
    export. `is_in_scope` applies the study's scope (indicators.md): not a duplicate record,
    registered within the study period and not after the export, age unknown or 0-17. -#}
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
    coalesce(
        coalesce(status_category, '') <> 'duplicate'
        and registration_date between cast('{{ var("study_start") }}' as date) and cast('{{ var("study_end") }}' as date)
        and registration_date <= export_date
        and (age_years is null or age_years between 0 and 17),
        false
    ) as is_in_scope,
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
from {{ ref('int_cases__resolved') }}
where row_outcome = 'harmonised'
