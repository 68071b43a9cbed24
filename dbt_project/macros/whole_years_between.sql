{#- Whole years from one date to a later one (a birthday not yet reached this year does not
    count), as a bigint on every engine. Portable SQL; staging uses it so that a date of birth never leaves staging. -#}
{% macro whole_years_between(born, on) -%}
    cast(extract(year from {{ on }}) - extract(year from {{ born }})
     - case when extract(month from {{ on }}) * 100 + extract(day from {{ on }})
                 < extract(month from {{ born }}) * 100 + extract(day from {{ born }}) then 1 else 0 end
     as {{ dbt.type_bigint() }})
{%- endmacro %}
