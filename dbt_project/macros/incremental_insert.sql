{#- An incremental model's new rows go straight into its table. dbt-duckdb's incremental
    materialization first writes them to a temporary table (whose columns it reads for
    on_schema_change) and then copies that table into the model's: every row written twice, and the
    copy held in memory while the connection lives. Here the temporary relation of an incremental
    model is a view over its query: its columns are read from the view, and the insert into the
    model's table is the only write (scale 10, Kenya's next export: the copies of its three staging
    models alone took 0.6, 0.25 and 0.4 s). Every other table is dbt-duckdb's own macro, which
    dbt's dispatch finds after this project's. -#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- if temporary and language == 'sql' and model.get('config', {}).get('materialized') == 'incremental' -%}
    create temporary view {{ relation.include(database=false, schema=false) }} as (
        {{ compiled_code }}
    )
    {%- else -%}
    {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {%- endif -%}
{%- endmacro %}
