{#- Engine-specific SQL behind adapter.dispatch: the models call these, never the functions.
    The default__ implementations are DuckDB's, the spark__ ones Spark SQL's (ANSI mode, Spark 4):
    the same values on both, which tests/test_spark.py checks table by table. -#}

{% macro normalise_value(expression) -%}
    {{ return(adapter.dispatch('normalise_value', 'cpwh')(expression)) }}
{%- endmacro %}
{% macro default__normalise_value(expression) -%}
    nullif(lower(regexp_replace(trim({{ expression }}), '\s+', ' ', 'g')), '')
{%- endmacro %}
{% macro spark__normalise_value(expression) -%}
    nullif(lower(regexp_replace(trim({{ expression }}), '\\s+', ' ')), '')
{%- endmacro %}

{% macro parse_date(expression, date_format) -%}
    {{ return(adapter.dispatch('parse_date', 'cpwh')(expression, date_format)) }}
{%- endmacro %}
{% macro default__parse_date(expression, date_format) -%}
    {%- if date_format == '%Y-%m-%d' -%}
    try_cast(left(trim({{ expression }}), 10) as date)
    {%- else -%}
    cast(try_strptime(trim({{ expression }}), '{{ date_format }}') as date)
    {%- endif -%}
{%- endmacro %}
{#- strftime formats as Spark's datetime patterns; one letter for day and month reads one or two
    digits, as DuckDB's %d and %m do. -#}
{% macro spark__parse_date(expression, date_format) -%}
    {%- if date_format == '%Y-%m-%d' -%}
    try_cast(left(trim({{ expression }}), 10) as date)
    {%- else -%}
    {%- set pattern = date_format | replace('%Y', 'yyyy') | replace('%m', 'M') | replace('%d', 'd') | replace('%b', 'MMM') -%}
    cast(try_to_timestamp(trim({{ expression }}), '{{ pattern }}') as date)
    {%- endif -%}
{%- endmacro %}

{% macro parse_timestamp(expression) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'cpwh')(expression)) }}
{%- endmacro %}
{% macro default__parse_timestamp(expression) -%}
    try_strptime(trim({{ expression }}), '%Y-%m-%dT%H:%M:%SZ')
{%- endmacro %}
{% macro spark__parse_timestamp(expression) -%}
    try_to_timestamp(trim({{ expression }}), "yyyy-MM-dd'T'HH:mm:ss'Z'")
{%- endmacro %}

{% macro safe_integer(expression) -%}
    {{ return(adapter.dispatch('safe_integer', 'cpwh')(expression)) }}
{%- endmacro %}
{% macro default__safe_integer(expression) -%}
    try_cast(try_cast(trim({{ expression }}) as double) as integer)
{%- endmacro %}
{#- DuckDB rounds a double to the nearest integer when casting (half away from zero); Spark
    truncates, so round first. -#}
{% macro spark__safe_integer(expression) -%}
    try_cast(round(try_cast(trim({{ expression }}) as double)) as integer)
{%- endmacro %}

{#- A multi-select value as a list: JSON array text, or ids/labels joined by a separator. -#}
{% macro multiselect_list(expression, style, separator) -%}
    {{ return(adapter.dispatch('multiselect_list', 'cpwh')(expression, style, separator)) }}
{%- endmacro %}
{% macro default__multiselect_list(expression, style, separator) -%}
    {%- if style == 'json_array' -%}
    case when json_valid({{ expression }}) then from_json({{ expression }}, '["VARCHAR"]') end
    {%- else -%}
    string_split({{ expression }}, '{{ separator }}')
    {%- endif -%}
{%- endmacro %}
{% macro spark__multiselect_list(expression, style, separator) -%}
    {%- if style == 'json_array' -%}
    from_json({{ expression }}, 'array<string>')
    {%- else -%}
    split({{ expression }}, '\\Q{{ separator }}\\E')
    {%- endif -%}
{%- endmacro %}

{#- One row per list element, used in a select list. -#}
{% macro explode_list(list_expression) -%}
    {{ return(adapter.dispatch('explode_list', 'cpwh')(list_expression)) }}
{%- endmacro %}
{% macro default__explode_list(list_expression) -%}
    unnest({{ list_expression }})
{%- endmacro %}
{% macro spark__explode_list(list_expression) -%}
    explode({{ list_expression }})
{%- endmacro %}

{% macro first_in_list(list_expression) -%}
    {{ return(adapter.dispatch('first_in_list', 'cpwh')(list_expression)) }}
{%- endmacro %}
{% macro default__first_in_list(list_expression) -%}
    ({{ list_expression }})[1]
{%- endmacro %}
{% macro spark__first_in_list(list_expression) -%}
    try_element_at({{ list_expression }}, 1)
{%- endmacro %}

{#- Keyed pseudonym of a record id (HMAC-SHA256; the key never enters SQL text). -#}
{% macro pseudonymise(country_code, expression) -%}
    {{ return(adapter.dispatch('pseudonymise', 'cpwh')(country_code, expression)) }}
{%- endmacro %}
{% macro default__pseudonymise(country_code, expression) -%}
    cpwh_pseudonym({{ country_code }}, nullif(trim({{ expression }}), ''))
{%- endmacro %}
{#- Spark never holds the key: the raw layer's Parquet carries each id column's pseudonym, computed
    where the raw rows were written with the same keyed HMAC (orchestration/ingest/lake.py). -#}
{% macro spark__pseudonymise(country_code, expression) -%}
    {{ expression }}__pseudonym
{%- endmacro %}

{#- Whole days from one date to another as a bigint (dbt.datediff gives an int on Spark). -#}
{% macro days_between(start_date, end_date) -%}
    cast({{ dbt.datediff(start_date, end_date, 'day') }} as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- A common table expression that several parts of a query read, inlined into each: DuckDB
    materialises such a CTE once by default, and where it is a wide row per child and group (the six
    groups of int_children__grouped) writing it costs more than computing it again for each reader
    (int_indicators__computed at scale 10: 3.4 s and 2.4 GB of buffers materialised, 1.9 s inlined;
    the same rows). Spark inlines a CTE unless told otherwise and has no such keyword. -#}
{% macro inlined_cte() -%}
    {{ return(adapter.dispatch('inlined_cte', 'cpwh')()) }}
{%- endmacro %}
{% macro default__inlined_cte() -%}
    not materialized
{%- endmacro %}
{% macro spark__inlined_cte() -%}
{%- endmacro %}

{% macro median_of(expression) -%}
    {{ return(adapter.dispatch('median_of', 'cpwh')(expression)) }}
{%- endmacro %}
{% macro default__median_of(expression) -%}
    median({{ expression }})
{%- endmacro %}
{% macro spark__median_of(expression) -%}
    median({{ expression }})
{%- endmacro %}

{#- On Spark, the raw tables over the Parquet lake (orchestration/ingest/lake.py), declared before
    anything runs: each country table with the columns and types of its profile, partitioned by
    export, and the load ledgers as written. Nothing to do on DuckDB, where the loader writes them. -#}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources', 'cpwh')()) }}
{%- endmacro %}
{% macro default__register_raw_sources() -%}
{%- endmacro %}
{% macro spark__register_raw_sources() -%}
    {%- if execute -%}
    {%- set root = env_var('CPWH_LAKE', env_var('CPWH_HOME', '../data') ~ '/lake') ~ '/raw' -%}
    {%- do run_query('create database if not exists raw') -%}
    {%- for country, p in country_profiles().items() -%}
    {%- for table, columns in p.lake_columns.items() -%}
    {%- do run_query('drop table if exists raw.' ~ table) -%}
    {%- set ddl -%}
    create table raw.{{ table }} (
        {%- for column in columns %}`{{ column[0] }}` {{ column[1] }}{{ ',' if not loop.last }}{% endfor -%}
    ) using parquet partitioned by (_export_date) location '{{ root }}/{{ table }}'
    {%- endset -%}
    {%- do run_query(ddl) -%}
    {%- do run_query('msck repair table raw.' ~ table) -%}
    {%- endfor -%}
    {%- endfor -%}
    {%- for ledger in ['export_loads', 'export_files'] -%}
    {%- do run_query('drop table if exists raw.' ~ ledger) -%}
    {%- do run_query('create table raw.' ~ ledger ~ " using parquet location '" ~ root ~ '/' ~ ledger ~ "'") -%}
    {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
