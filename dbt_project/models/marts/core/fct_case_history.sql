{#- One row per case and export: each record as its country's successive complete exports saw it
    (the newest version of the record in each export, as fct_cases takes it from the latest), with
    its status, risk level, care and the concerns and implemented services recorded so far. The
    trajectories behind mart_case_flow; superseded exports are kept here, never overwritten. -#}
{{ config(**by_country()) }}
with

versions as (
    select *
    from {{ country_rows('int_cases__resolved') }}
    where case_key is not null and version_rank = 1
),

exports as (
    {#- Only exports that loaded completely: a failed export leaves no trajectory step. #}
    select distinct country as country_code, export_date
    from {{ source('raw', 'export_loads') }}
    where status = 'loaded'
),

concerns as (
    select
        concerns.load_id,
        concerns.source_file,
        concerns.source_row,
        count(distinct concerns.concern_category) as concern_categories
    from {{ country_rows('int_concerns__unioned') }} as concerns
    where concerns.concern_category <> 'none'
    group by concerns.load_id, concerns.source_file, concerns.source_row
),

embedded_services as (
    select load_id, source_file, source_row, count(*) as implemented_services
    from {{ country_rows('int_services__unioned') }}
    where is_embedded_in_case_row and is_implemented
    group by load_id, source_file, source_row
),

linked_services as (
    select country_code, export_date, case_link_key, count(*) as implemented_services
    from {{ country_rows('int_services__unioned') }}
    where not is_embedded_in_case_row and is_implemented and case_link_key is not null
    group by country_code, export_date, case_link_key
)

select
    versions.case_key,
    versions.country_code,
    versions.export_date,
    versions.registration_date,
    versions.status_category,
    versions.is_closed,
    versions.date_closure,
    versions.risk_level,
    versions.care_category,
    versions.sex,
    versions.age_group,
    versions.is_in_scope,
    versions.is_latest_export,
    cast(coalesce(concerns.concern_categories, 0) as {{ dbt.type_bigint() }}) as concern_categories,
    cast(coalesce(embedded_services.implemented_services, 0) + coalesce(linked_services.implemented_services, 0)
        as {{ dbt.type_bigint() }}) as implemented_services
from versions
inner join exports
    on exports.country_code = versions.country_code
    and exports.export_date = versions.export_date
left join concerns
    on concerns.load_id = versions.load_id
    and concerns.source_file = versions.source_file
    and concerns.source_row = versions.source_row
left join embedded_services
    on embedded_services.load_id = versions.load_id
    and embedded_services.source_file = versions.source_file
    and embedded_services.source_row = versions.source_row
left join linked_services
    on linked_services.country_code = versions.country_code
    and linked_services.export_date = versions.export_date
    and linked_services.case_link_key = versions.case_link_key
{{ in_country_order() }}
