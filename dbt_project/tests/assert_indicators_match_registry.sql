-- Every computed indicator is defined by exactly one row of the indicator registry (its id, or its
-- family's prefix), with the registry's unit and breakdowns. (That every registry row yields rows
-- depends on the data: tests/test_indicators.py checks it on generated exports.)
with

registry as (
    select
        indicator_id as registry_id,
        statistic,
        replace(indicator_id, '*', '') as prefix,
        indicator_id like '%*' as is_family,
        unit,
        by_sex,
        by_age_group
    from {{ ref('indicator_registry') }}
),

indicators as (
    select indicator_id, dimension, unit, max(numerator) as numerator, max(denominator) as denominator,
        max(value) as value
    from {{ ref('int_indicators__computed') }}
    group by indicator_id, dimension, unit
),

matched as (
    select indicators.*, registry.registry_id, registry.statistic, registry.unit as registry_unit, registry.by_sex,
        registry.by_age_group
    from indicators
    left join registry
        on (not registry.is_family and registry.registry_id = indicators.indicator_id)
        or (registry.is_family and substring(indicators.indicator_id, 1, length(registry.prefix)) = registry.prefix)
),

problems as (
    select indicator_id, 'matches no registry row' as problem from matched where registry_id is null
    union all
    select indicator_id, 'matches more than one registry row' from matched
    group by indicator_id, dimension having count(*) > 1
    union all
    select indicator_id, 'unit differs from the registry' from matched where unit <> registry_unit
    union all
    select indicator_id, 'a breakdown the registry does not give' from matched
    where (dimension = 'sex' and not by_sex) or (dimension = 'age_group' and not by_age_group)
    union all
    -- A figure name the model does not count leaves the column empty everywhere.
    select indicator_id, 'names a numerator figure that is not counted' from matched
    where statistic in ('count', 'share', 'mean') and numerator is null and dimension = 'total'
    union all
    select indicator_id, 'names a denominator figure that is not counted' from matched
    where statistic in ('share', 'mean', 'median') and denominator is null and dimension = 'total'
    union all
    select indicator_id, 'names a median that is not computed' from matched
    where statistic = 'median' and value is null and denominator > 0 and dimension = 'total'
)

select * from problems
