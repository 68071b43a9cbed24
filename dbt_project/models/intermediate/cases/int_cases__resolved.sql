{#- Every staged case row with what became of it: harmonised, a resolved duplicate (an older
    version of the same record in the same export), quarantined (no usable record id), or
    superseded (not the latest complete export). UASC status is derived here because it needs
    the row's concern options. -#}
{{ config(**by_country()) }}
with

cases as (
    select * from {{ country_rows('int_cases__derived') }}
),

latest as (
    select * from {{ ref('int_exports__latest') }}
),

uasc_concerns as (
    select
        load_id,
        source_file,
        source_row,
        {{ dbt.bool_or("option_id in ('unaccompanied', 'unaccompanied_children')") }} as has_unaccompanied_concern,
        {{ dbt.bool_or("option_id in ('separated', 'separated_children')") }} as has_separated_concern
    from {{ country_rows('int_concerns__unioned') }}
    group by load_id, source_file, source_row
),

ranked as (
    select
        cases.*,
        latest.export_date is not null as is_latest_export,
        row_number() over (
            partition by cases.country_code, cases.export_date, cases.case_key
            order by cases.last_updated_at desc nulls last, cases.source_file, cases.source_row
        ) as version_rank,
        count(*) over (partition by cases.country_code, cases.export_date, cases.case_key) as versions_in_export
    from cases
    left join latest
        on latest.country_code = cases.country_code
        and latest.export_date = cases.export_date
)

select
    ranked.*,
    case
        when ranked.uasc_field_category = 'unaccompanied' or coalesce(uasc_concerns.has_unaccompanied_concern, false)
            then 'unaccompanied'
        when ranked.uasc_field_category = 'separated' or coalesce(uasc_concerns.has_separated_concern, false)
            then 'separated'
        else 'not_uasc'
    end as uasc_status,
    ranked.case_key is not null and ranked.versions_in_export > 1 as d10_record_id_repeated,
    case
        when not ranked.is_latest_export then 'superseded'
        when ranked.case_key is null then 'quarantined'
        when ranked.version_rank > 1 then 'resolved_duplicate'
        else 'harmonised'
    end as row_outcome,
    case when ranked.is_latest_export and ranked.case_key is null then 'missing_record_id' end as quarantine_reason
from ranked
left join uasc_concerns
    on uasc_concerns.load_id = ranked.load_id
    and uasc_concerns.source_file = ranked.source_file
    and uasc_concerns.source_row = ranked.source_row
{{ in_country_order() }}
