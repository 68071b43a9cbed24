{#- Share indicators: for every group (country or ALL x dimension x value) of `records` and every
    category that int_categories__listed gives the breakdown `dimension`, the records of that
    category among all the group's records (or among `denominators`, a relation with the columns
    country_group, dimension, dimension_value and records, e.g. the group's children), zero
    included. Counts are whole numbers. -#}
{% macro category_share_rows(prefix, records, category_column, dimension, denominators=none) %}
    select
        '{{ prefix }}' || categories.category as indicator_id,
        denominators.country_group as country_code,
        denominators.dimension,
        denominators.dimension_value,
        cast(coalesce(counts.records, 0) as {{ dbt.type_bigint() }}) as numerator,
        cast(denominators.records as {{ dbt.type_bigint() }}) as denominator,
        100.0e0 * coalesce(counts.records, 0) / denominators.records as value,
        'percent' as unit
    from (
        {%- if denominators %}
        select country_group, dimension, dimension_value, records from {{ denominators }}
        {%- else %}
        select country_group, dimension, dimension_value, count(*) as records
        from {{ records }}
        group by country_group, dimension, dimension_value
        {%- endif %}
    ) as denominators
    cross join (
        select category from {{ ref('int_categories__listed') }} where dimension = '{{ dimension }}'
    ) as categories
    left join (
        select country_group, dimension, dimension_value, {{ category_column }} as category, count(*) as records
        from {{ records }}
        group by country_group, dimension, dimension_value, {{ category_column }}
    ) as counts
        on counts.country_group = denominators.country_group
        and counts.dimension = denominators.dimension
        and counts.dimension_value = denominators.dimension_value
        and counts.category = categories.category
{% endmacro %}

{#- An indicator's value from its whole-number numerator and denominator (a median comes as it
    is): one formula for a country's rows (int_country_indicators__computed) and ALL's, summed from them
    (int_indicators__computed). Means in months sum whole days. -#}
{% macro indicator_value(statistic, unit, numerator, denominator, median) -%}
    case
        when {{ statistic }} = 'count' then cast({{ numerator }} as double)
        when {{ statistic }} = 'median' then {{ median }}
        when coalesce({{ denominator }}, 0) <= 0 then null
        when {{ statistic }} = 'share' then 100.0e0 * {{ numerator }} / {{ denominator }}
        when {{ unit }} = 'months' then cast({{ numerator }} as double) / 30.4375e0 / {{ denominator }}
        else 1.0e0 * {{ numerator }} / {{ denominator }}
    end
{%- endmacro %}
