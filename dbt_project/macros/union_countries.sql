{#- The six countries' staging models of one entity, unioned on one shape (in a build of some
    countries, only theirs: see by_country.sql). -#}
{% macro union_countries(entity) -%}
    {%- for code in country_profiles().keys() | sort %}
    select * from {{ ref('stg_' ~ (code | lower) ~ '__' ~ entity) }}
    {%- if not country_is_rebuilt(code) %} where 1 = 0{% endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
