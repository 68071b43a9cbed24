-- Every raw option value is either matched to the categorisation seed (after normalising) or
-- carries the category 'unmapped' -- never both, never neither.
with

lookup as (
    select distinct country_code, field, match_key from {{ ref('stg_reference__option_lookup') }}
),

values_seen as (
    {%- set profiles = country_profiles() %}
    {%- for code in profiles.keys() | sort %}
    {%- set p = profiles[code] %}
    {%- for canonical, column in p.fields.items() %}
    select country_code, '{{ column }}' as field, {{ canonical }}_value as raw_value,
        {{ canonical }}_option_category as category
    from {{ ref('stg_' ~ (code | lower) ~ '__cases') }}
    union all
    {%- endfor %}
    select country_code, concern_field as field, concern_value as raw_value, concern_category as category
    from {{ ref('stg_' ~ (code | lower) ~ '__concerns') }}
    union all
    select country_code, 'service_type' as field, service_type_value as raw_value, service_category as category
    from {{ ref('stg_' ~ (code | lower) ~ '__services') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select values_seen.*
from values_seen
left join lookup
    on lookup.country_code = values_seen.country_code
    and lookup.field = values_seen.field
    and lookup.match_key = {{ normalise_value('values_seen.raw_value') }}
where {{ normalise_value('values_seen.raw_value') }} is not null
    and (
        (values_seen.category = 'unmapped') = (lookup.match_key is not null)
    )
