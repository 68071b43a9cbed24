{#- Every staged service row with what became of it. A service embedded in a case row (MMR's
    wide columns, UKR's nested array) shares that row's fate; a service in a separate table belongs
    to the harmonised case with its key, and is quarantined when no case of the export has it. -#}
{{ config(**by_country()) }}
with

services as (
    select * from {{ country_rows('int_services__unioned') }}
),

case_rows as (
    select * from {{ country_rows('int_cases__resolved') }}
),

harmonised_by_key as (
    select country_code, export_date, case_link_key, case_key
    from case_rows
    where row_outcome = 'harmonised'
),

keys_in_export as (
    select distinct country_code, export_date, case_link_key
    from case_rows
    where case_link_key is not null
),

linked as (
    select
        services.*,
        latest_export.export_date is not null as is_latest_export,
        row_case.row_outcome as case_row_outcome,
        coalesce(row_case.case_key, latest_key.case_key) as linked_case_key,
        known_key.case_link_key is not null as case_key_in_export
    from services
    left join case_rows as row_case
        on services.is_embedded_in_case_row
        and row_case.load_id = services.load_id
        and row_case.source_file = services.source_file
        and row_case.source_row = services.source_row
    left join harmonised_by_key as latest_key
        on not services.is_embedded_in_case_row
        and latest_key.country_code = services.country_code
        and latest_key.export_date = services.export_date
        and latest_key.case_link_key = services.case_link_key
    left join keys_in_export as known_key
        on not services.is_embedded_in_case_row
        and known_key.country_code = services.country_code
        and known_key.export_date = services.export_date
        and known_key.case_link_key = services.case_link_key
    left join {{ ref('int_exports__latest') }} as latest_export
        on latest_export.country_code = services.country_code
        and latest_export.export_date = services.export_date
)

select
    country_code,
    export_date,
    load_id,
    source_file,
    source_row,
    item_index,
    service_layout,
    is_embedded_in_case_row,
    service_key,
    linked_case_key as case_key,
    service_type_value,
    service_category,
    service_type_is_exact,
    is_implemented,
    service_date,
    not is_embedded_in_case_row and case_link_key is not null and not case_key_in_export
        as d12_service_without_case,
    case
        when not is_latest_export then 'superseded'
        when is_embedded_in_case_row and case_row_outcome = 'resolved_duplicate' then 'resolved_duplicate'
        when is_embedded_in_case_row and case_row_outcome = 'harmonised' then 'harmonised'
        when is_embedded_in_case_row then 'quarantined'
        when case_link_key is null then 'quarantined'
        when not case_key_in_export then 'quarantined'
        when linked_case_key is null then 'quarantined'
        else 'harmonised'
    end as row_outcome,
    case
        when not is_latest_export then null
        when is_embedded_in_case_row and case_row_outcome in ('resolved_duplicate', 'harmonised') then null
        when is_embedded_in_case_row then 'case_quarantined'
        when case_link_key is null then 'missing_case_key'
        when not case_key_in_export then 'service_without_case'
        when linked_case_key is null then 'case_quarantined'
    end as quarantine_reason
from linked
