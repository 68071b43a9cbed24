{#- The six CPIMS+ instances, from their export profiles, with the export in use. -#}
{%- set profiles = country_profiles() -%}
with

countries as (
    {%- for code in profiles.keys() | sort %}
    {%- set p = profiles[code] %}
    select
        '{{ code }}' as country_code,
        '{{ p.country_name }}' as country_name,
        '{{ p.primero_version }}' as primero_version,
        cast('{{ p.period_start }}' as date) as period_start,
        '{{ p.value_style }}' as value_style
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    countries.*,
    latest.export_date as export_date_in_use
from countries
left join {{ ref('int_exports__latest') }} as latest
    on latest.country_code = countries.country_code
