{#- The categories each breakdown reports, one row per dimension and category: every category of
    the categorisation seed for the dimension's fields, with the extra values the harmonisation
    gives (unknown, missing, unmapped, not_assessed). Share indicators list every one of them, zero
    included, and the category dimensions are built from them. -#}
with

seed as (
    select distinct field, category from {{ ref('categorisation') }}
)

select 'displacement' as dimension, category from seed where field = 'displacement_status'
union select 'displacement', 'unknown'
union select 'displacement', 'unmapped'
union select 'risk', 'high'
union select 'risk', 'medium'
union select 'risk', 'low'
union select 'risk', 'not_assessed'
union select 'care', category from seed where field = 'care_arrangements_type'
union select 'closure', category from seed where field in ('closure_reason', 'primary_reason_closure')
union select 'closure', 'missing'
union select 'closure', 'unmapped'
union select 'concern', category from seed where field in ('protection_concerns', 'type_of_risk') and category <> 'none'
union select 'concern', 'unmapped'
union select 'service', category from seed where field = 'service_type'
union select 'service', 'unmapped'
union select 'service', 'missing'
union select 'duration_band', 'up_to_30_days'
union select 'duration_band', '31_to_90_days'
union select 'duration_band', '91_to_180_days'
union select 'duration_band', 'over_180_days'
