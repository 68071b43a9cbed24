{#- The six countries' staging models of one entity, unioned on one shape. -#}
{% macro union_countries(entity) -%}
    {%- for code in country_profiles().keys() | sort %}
    select * from {{ ref('stg_' ~ (code | lower) ~ '__' ~ entity) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
