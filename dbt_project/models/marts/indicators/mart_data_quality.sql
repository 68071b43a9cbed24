{#- Data gaps per country and export (int_quality_checks__counted): each defect D1-D13 of
    exports.md with its count, the records its rule applies to and the rate; and the share of
    unmapped option values per field. -#}
select
    country_code,
    export_date,
    is_latest_export,
    check_id,
    check_kind,
    description,
    affected_rows,
    denominator_rows,
    case when denominator_rows > 0 then 100.0e0 * affected_rows / denominator_rows end as rate_pct
from {{ ref('int_quality_checks__counted') }}
