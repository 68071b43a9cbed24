{#- The monthly case flow per country, from the case trajectories (fct_case_history, in-scope
    records): each complete export against the country's previous one. Exports are monthly, so
    a row is a month; the first export of a country is the baseline and has no flows, only its
    open caseload.
    opened: records in this export that were not in the previous one;
    closed: closed now, not closed (or not there) before;
    reopened: open now, closed before;
    transferred: transferred now, not transferred (or not there) before;
    open_at_month_end: open at the export date. -#}
with

history as (
    select * from {{ ref('fct_case_history') }}
    where is_in_scope
),

exports as (
    select
        country_code,
        export_date,
        lag(export_date) over (partition by country_code order by export_date) as previous_export_date
    from (select distinct country_code, export_date from {{ ref('fct_case_history') }}) as distinct_exports
),

steps as (
    select
        exports.country_code,
        exports.export_date,
        exports.previous_export_date,
        current_export.status_category as status,
        previous_export.status_category as previous_status,
        previous_export.case_key is not null as was_there
    from exports
    inner join history as current_export
        on current_export.country_code = exports.country_code
        and current_export.export_date = exports.export_date
    left join history as previous_export
        on previous_export.country_code = exports.country_code
        and previous_export.export_date = exports.previous_export_date
        and previous_export.case_key = current_export.case_key
),

counted as (
    select
        country_code,
        export_date,
        previous_export_date,
        count(*) as cases_in_scope,
        sum(case when not was_there then 1 else 0 end) as opened,
        sum(case when status = 'closed' and coalesce(previous_status, '') <> 'closed' then 1 else 0 end) as closed,
        sum(case when status = 'open' and previous_status = 'closed' then 1 else 0 end) as reopened,
        sum(case when status = 'transferred' and coalesce(previous_status, '') <> 'transferred' then 1 else 0 end)
            as transferred,
        sum(case when status = 'open' then 1 else 0 end) as open_at_month_end
    from steps
    group by country_code, export_date, previous_export_date
)

select
    country_code,
    cast({{ dbt.date_trunc('month', 'export_date') }} as date) as month,
    export_date,
    previous_export_date,
    previous_export_date is null as is_baseline,
    cast(cases_in_scope as {{ dbt.type_bigint() }}) as cases_in_scope,
    cast(case when previous_export_date is not null then opened end as {{ dbt.type_bigint() }}) as opened,
    cast(case when previous_export_date is not null then closed end as {{ dbt.type_bigint() }}) as closed,
    cast(case when previous_export_date is not null then reopened end as {{ dbt.type_bigint() }}) as reopened,
    cast(case when previous_export_date is not null then transferred end as {{ dbt.type_bigint() }}) as transferred,
    cast(open_at_month_end as {{ dbt.type_bigint() }}) as open_at_month_end
from counted
