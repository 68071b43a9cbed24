{#- Derivations shared by every country (indicators.md, "Derived fields"). Portable SQL. -#}

{% macro whole_years_between(born, on) -%}
    (extract(year from {{ on }}) - extract(year from {{ born }})
     - case when extract(month from {{ on }}) * 100 + extract(day from {{ on }})
                 < extract(month from {{ born }}) * 100 + extract(day from {{ born }}) then 1 else 0 end)
{%- endmacro %}

{% macro age_group(age_years) -%}
    case
        when {{ age_years }} is null then 'unknown'
        when {{ age_years }} < 0 then 'unknown'
        when {{ age_years }} <= 4 then '0-4'
        when {{ age_years }} <= 9 then '5-9'
        when {{ age_years }} <= 14 then '10-14'
        when {{ age_years }} <= 17 then '15-17'
        else '18_and_over'
    end
{%- endmacro %}

{% macro closure_outcome(closure_category) -%}
    case
        when {{ closure_category }} is null then null
        when {{ closure_category }} = 'goals_met' then 'positive'
        when {{ closure_category }} in ('turned_18', 'transferred') then 'neutral'
        when {{ closure_category }} in ('relocated_or_lost_contact', 'declined_support', 'death', 'agency_limitation')
            then 'negative'
        when {{ closure_category }} = 'opened_in_error' then 'excluded'
        else 'unknown'
    end
{%- endmacro %}

{% macro months_between_dates(start_date, end_date) -%}
    ({{ dbt.datediff(start_date, end_date, 'day') }} / 30.4375)
{%- endmacro %}
