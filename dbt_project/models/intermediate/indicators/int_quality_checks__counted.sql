{#- Data gaps per country and export, counted: each defect D1-D13 of exports.md with the rows
    it affects and the rows its rule applies to, and the values per coded field that match no
    option of the categorisation. Over every row of the export (not only children in scope),
    duplicates included. Kept by country (by_country.sql). -#}
{{ config(**by_country()) }}
{%- set defects = [
    ('d1', 'closed case without date_closure', 'd1_closed_without_closure_date', 'is_closed'),
    ('d2', 'date_closure on a case that is not closed', 'd2_closure_date_on_open_case', 'not is_closed'),
    ('d3', 'date_closure before registration_date', 'd3_closure_before_registration',
        'is_closed and date_closure is not null and registration_date is not null'),
    ('d4', 'closed case with no closure reason at all', 'd4_closed_without_reason', 'is_closed'),
    ('d5', 'NGA legacy and revised closure reasons in different categories', 'd5_closure_fields_disagree', 'true'),
    ('d6', 'neither age nor date of birth', 'd6_no_age_no_date_of_birth', 'true'),
    ('d7', 'age and the age from date_of_birth differ by more than one year', 'd7_age_contradicts_date_of_birth', 'true'),
    ('d8', 'aged 18 or over at registration', 'd8_adult_at_registration', 'true'),
    ('d9', 'registration_date missing, unparseable, before the study period or after the export date',
        'd9_bad_registration_date', 'true'),
    ('d10', 'the same id twice in one export (rows beyond the first version)', 'version_rank > 1', 'true'),
    ('d11', 'an option value not written exactly as in the lists, or matching nothing', 'd11_value_not_as_listed', 'true'),
    ('d13', 'status = duplicate', 'd13_marked_duplicate', 'true'),
] -%}
{%- set case_fields = [('status_value', 'status_category', 'status'), ('sex_value', 'sex', 'sex'),
    ('displacement_value', 'displacement_category', 'displacement_status'),
    ('uasc_value', 'uasc_field_category', 'unaccompanied_separated_status'),
    ('risk_value', 'risk_level', 'risk_level'), ('care_value', 'care_category', 'care_arrangements_type')] -%}
with

cases as (
    select * from {{ country_rows('int_cases__resolved') }}
),

services as (
    select * from {{ country_rows('int_services__resolved') }}
),

latest as (
    select * from {{ ref('int_exports__latest') }}
),

checks as (
    {%- for check_id, description, condition, applies in defects %}
    select
        country_code,
        export_date,
        '{{ check_id }}' as check_id,
        'defect' as check_kind,
        '{{ description }}' as description,
        sum(case when {{ applies }} and {{ condition }} then 1 else 0 end) as affected_rows,
        sum(case when {{ applies }} then 1 else 0 end) as denominator_rows
    from cases
    group by country_code, export_date
    union all
    {%- endfor %}
    select
        country_code,
        export_date,
        'd12' as check_id,
        'defect' as check_kind,
        'service row without its case' as description,
        sum(case when d12_service_without_case then 1 else 0 end) as affected_rows,
        count(*) as denominator_rows
    from services
    group by country_code, export_date
    {%- for value_column, category_column, field in case_fields %}
    union all
    select
        country_code,
        export_date,
        'unmapped__{{ field }}' as check_id,
        'unmapped' as check_kind,
        'values of {{ field }} matching no option of the categorisation' as description,
        sum(case when {{ category_column }} = 'unmapped' then 1 else 0 end) as affected_rows,
        sum(case when {{ normalise_value(value_column) }} is not null then 1 else 0 end) as denominator_rows
    from cases
    group by country_code, export_date
    {%- endfor %}
    union all
    select
        country_code,
        export_date,
        'unmapped__protection_concerns' as check_id,
        'unmapped' as check_kind,
        'concern options matching no option of the categorisation' as description,
        sum(case when concern_category = 'unmapped' then 1 else 0 end) as affected_rows,
        count(*) as denominator_rows
    from {{ country_rows('int_concerns__unioned') }}
    group by country_code, export_date
    union all
    select
        country_code,
        export_date,
        'unmapped__service_type' as check_id,
        'unmapped' as check_kind,
        'service types matching no option of the categorisation' as description,
        sum(case when service_category = 'unmapped' then 1 else 0 end) as affected_rows,
        count(*) as denominator_rows
    from services
    group by country_code, export_date
)

select
    checks.country_code,
    checks.export_date,
    latest.export_date is not null as is_latest_export,
    checks.check_id,
    checks.check_kind,
    checks.description,
    cast(checks.affected_rows as {{ dbt.type_bigint() }}) as affected_rows,
    cast(checks.denominator_rows as {{ dbt.type_bigint() }}) as denominator_rows
from checks
left join latest
    on latest.country_code = checks.country_code
    and latest.export_date = checks.export_date
