-- Every raw row of every export is harmonised, quarantined, a resolved duplicate or superseded.
select *
from {{ ref('int_rows__reconciled') }}
where not is_balanced
