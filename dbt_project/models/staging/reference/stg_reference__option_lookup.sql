{#- One row per way a raw value can match an option: its id, and for label-valued profiles (LBN)
    its English and local labels, each normalised (trimmed, inner spaces collapsed, case-folded). -#}
{%- set label_countries = [] -%}
{%- for code, profile in country_profiles().items() if profile.value_style == 'label' -%}
    {%- do label_countries.append(code) -%}
{%- endfor -%}
with

seed as (
    select * from {{ ref('categorisation') }}
),

match_keys as (
    select country_code, field, option_id, label_en, label_local, category, option_id as match_text
    from seed
    where country_code not in ('{{ label_countries | join("', '") }}')
    union all
    select country_code, field, option_id, label_en, label_local, category, label_en as match_text
    from seed
    where country_code in ('{{ label_countries | join("', '") }}')
    union all
    select country_code, field, option_id, label_en, label_local, category, label_local as match_text
    from seed
    where country_code in ('{{ label_countries | join("', '") }}') and nullif(label_local, '') is not null
)

select distinct
    country_code,
    field,
    {{ normalise_value('match_text') }} as match_key,
    option_id,
    label_en,
    nullif(label_local, '') as label_local,
    category
from match_keys
