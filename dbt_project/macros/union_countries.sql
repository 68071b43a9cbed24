{#- The six countries' staging models of one entity, unioned on one shape: a view (the
    int_*__unioned models), read by models that take only the rebuilt countries' rows of it in a
    build of some countries (country_rows in by_country.sql). -#}
{% macro union_countries(entity) -%}
    {%- for code in country_profiles().keys() | sort %}
    select * from {{ ref('stg_' ~ (code | lower) ~ '__' ~ entity) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
