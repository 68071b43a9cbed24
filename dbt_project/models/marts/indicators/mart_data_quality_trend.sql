{#- Each build appends the rates of every country's latest export (mart_data_quality), so the data
    gaps D1-D13 and the unmapped shares can be followed run after run. A rate "jumps" when it at
    least doubles against the previous build and rises by one percentage point or more (so that
    tiny rates do not flap); the warning test assert_quality_rates_did_not_jump reports it. -#}
{#- Never refreshed: a full build (--full-refresh) keeps the history. #}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns', full_refresh=false) }}

with

current_rates as (
    select
        cast('{{ env_var("CPWH_RUN_ID", invocation_id) }}' as {{ dbt.type_string() }}) as run_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as built_at,
        country_code,
        export_date,
        check_id,
        check_kind,
        affected_rows,
        denominator_rows,
        rate_pct
    from {{ ref('mart_data_quality') }}
    where is_latest_export
),

previous_rates as (
    {%- if is_incremental() %}
    select country_code, check_id, rate_pct as previous_rate_pct
    from (
        select
            country_code,
            check_id,
            rate_pct,
            row_number() over (partition by country_code, check_id order by built_at desc) as recency
        from {{ this }}
    ) as history
    where recency = 1
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as {{ dbt.type_string() }}) as check_id,
        cast(null as double) as previous_rate_pct
    where 1 = 0
    {%- endif %}
)

select
    current_rates.run_id,
    current_rates.built_at,
    current_rates.country_code,
    current_rates.export_date,
    current_rates.check_id,
    current_rates.check_kind,
    current_rates.affected_rows,
    current_rates.denominator_rows,
    current_rates.rate_pct,
    cast(previous_rates.previous_rate_pct as double) as previous_rate_pct,
    coalesce(
        current_rates.rate_pct >= 2 * previous_rates.previous_rate_pct
        and current_rates.rate_pct - previous_rates.previous_rate_pct >= 1,
        false
    ) as rate_jumped
from current_rates
left join previous_rates
    on previous_rates.country_code = current_rates.country_code
    and previous_rates.check_id = current_rates.check_id
