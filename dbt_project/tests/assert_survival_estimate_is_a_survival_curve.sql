{#- The Kaplan-Meier estimate is a survival curve: between 0 and 1, never rising from one day to
    the next, and inside its own 95 % interval. Rows returned are steps that break it. -#}
with

steps as (
    select
        *,
        lag(still_open) over (partition by country_code, dimension, dimension_value order by time_days)
            as previous_still_open
    from {{ ref('int_survival__estimated') }}
)

select *
from steps
where still_open < 0
    or still_open > 1
    or still_open > previous_still_open + 1e-12
    or still_open_lower > still_open + 1e-12
    or still_open_upper < still_open - 1e-12
