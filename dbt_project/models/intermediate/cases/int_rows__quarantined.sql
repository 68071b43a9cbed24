{#- Every row of a latest export that cannot be used, with the reason: case rows without a record
    id, service rows whose case is not in the export (D12) or was quarantined. -#}
select
    'case' as entity,
    country_code,
    export_date,
    source_file,
    source_row,
    cast(null as integer) as item_index,
    quarantine_reason
from {{ ref('int_cases__resolved') }}
where row_outcome = 'quarantined'

union all

select
    'service' as entity,
    country_code,
    export_date,
    source_file,
    source_row,
    item_index,
    quarantine_reason
from {{ ref('int_services__resolved') }}
where row_outcome = 'quarantined'
