{#- Per country, export and entity: every raw row is harmonised, quarantined, a resolved
    duplicate, or superseded by a later export. `is_balanced` must hold everywhere (tested).
    MMR's services are columns of its case rows, not rows: they are reconciled with the cases.
    Kept by country (by_country.sql). -#}
{{ config(**by_country()) }}
{%- set profiles = country_profiles() -%}
with

raw_rows as (
    {%- for code in profiles.keys() | sort %}
    {%- set p = profiles[code] %}
    select '{{ code }}' as country_code, _export_date as export_date, 'case' as entity, count(*) as raw_rows
    from {{ source('raw', p.raw_tables[p.case_tables[0]]) }}
    {%- if not country_is_rebuilt(code) %} where 1 = 0{% endif %}
    group by _export_date
    {%- if p.services.layout != 'wide' %}
    union all
    select '{{ code }}' as country_code, _export_date as export_date, 'service' as entity, count(*) as raw_rows
    from {{ source('raw', p.raw_tables[p.services.table]) }}
    {%- if not country_is_rebuilt(code) %} where 1 = 0{% endif %}
    group by _export_date
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

outcomes as (
    select country_code, export_date, 'case' as entity, row_outcome
    from {{ country_rows('int_cases__resolved') }}
    union all
    select country_code, export_date, 'service' as entity, row_outcome
    from {{ country_rows('int_services__resolved') }}
    where service_layout <> 'wide'
),

counted as (
    select
        country_code,
        export_date,
        entity,
        sum(case when row_outcome = 'harmonised' then 1 else 0 end) as harmonised_rows,
        sum(case when row_outcome = 'quarantined' then 1 else 0 end) as quarantined_rows,
        sum(case when row_outcome = 'resolved_duplicate' then 1 else 0 end) as resolved_duplicate_rows,
        sum(case when row_outcome = 'superseded' then 1 else 0 end) as superseded_rows
    from outcomes
    group by country_code, export_date, entity
)

select
    raw_rows.country_code,
    raw_rows.export_date,
    raw_rows.entity,
    raw_rows.raw_rows,
    coalesce(counted.harmonised_rows, 0) as harmonised_rows,
    coalesce(counted.quarantined_rows, 0) as quarantined_rows,
    coalesce(counted.resolved_duplicate_rows, 0) as resolved_duplicate_rows,
    coalesce(counted.superseded_rows, 0) as superseded_rows,
    raw_rows.raw_rows = coalesce(counted.harmonised_rows, 0) + coalesce(counted.quarantined_rows, 0)
        + coalesce(counted.resolved_duplicate_rows, 0) + coalesce(counted.superseded_rows, 0) as is_balanced
from raw_rows
left join counted
    on counted.country_code = raw_rows.country_code
    and counted.export_date = raw_rows.export_date
    and counted.entity = raw_rows.entity
