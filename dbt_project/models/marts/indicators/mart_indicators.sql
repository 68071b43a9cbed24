{#- The review's indicators (indicators.md), long: one row per indicator, country (and ALL),
    dimension and value, with its numerator and denominator (whole numbers; for means the sum and
    the count) and whether the small-cell rule hides it (int_indicators__suppressed). Which
    indicators exist and how each is defined is the indicator_registry seed. -#}
select
    indicator_id,
    country_code,
    dimension,
    dimension_value,
    numerator,
    denominator,
    value,
    unit,
    suppressed
from {{ ref('int_indicators__suppressed') }}
