{#- Models whose rows each belong to one country (staging, the derived and resolved rows, the
    reconciliation and the data-quality counts, the facts) can rebuild only the countries whose
    exports changed. The unioned rows and the children's groups are views over them: nothing of
    theirs is stored to rebuild.

    A build for some countries (the landing-zone sensor's run for one export, `cpwh build
    --countries KEN`) names them in CPWH_REBUILD_COUNTRIES; such a model then deletes those
    countries' rows and inserts them again from its inputs, and the other countries' rows stay as
    the last build left them. Every other build is a full refresh (the dbt asset passes
    --full-refresh, and does so whenever the project, the key or a model changed since the last
    complete build, see orchestration/transform/incremental.py). The aggregates over all countries
    (the indicators with ALL, the analyses, the marts) are rebuilt whole, but from per-country
    counts kept by country where they can be summed (int_country_indicators__computed, the
    histograms and cells named *__counted): ALL is their sum, and its medians are read from summed
    histograms.

    An environment variable read only while executing, not a var: a changed var makes dbt parse
    the whole project again. On Spark these models are plain tables (Parquet has no DELETE). -#}

{#- The config of a model kept by country (its pre-hook deletes what the insert replaces). -#}
{% macro by_country(pre_hook="{{ delete_rebuilt_countries() }}") -%}
    {{ return({
        'materialized': 'incremental' if target.type == 'duckdb' else 'table',
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
        'pre_hook': pre_hook,
    }) }}
{%- endmacro %}

{#- The config of a staging model (one country's rows of every loaded export, each row from its raw
    row alone): kept by country like the models above, and within a rebuilt country by export. The
    rows of an export still loaded stay (the same raw rows under the same project and key give the
    same staging rows; a changed dbt file or key is a full refresh), the rows of an export no
    longer in the raw layer go, and only the exports not staged yet are read and inserted: a
    country's next export stages its own rows, not every earlier export's again. -#}
{% macro by_export(country) -%}
    {{ return(by_country(pre_hook="{{ delete_unloaded_exports('" ~ country ~ "') }}")) }}
{%- endmacro %}

{#- Before a staging model's incremental insert: in a rebuilt country, the rows of exports whose
    raw rows are gone (an export loaded again with other files has a new load id); every row when
    no country is named, as delete_rebuilt_countries does. -#}
{% macro delete_unloaded_exports(country) -%}
    {%- if execute and is_incremental() -%}
        {%- set countries = rebuilt_countries() -%}
        {%- if countries is none %}
        delete from {{ this }}
        {%- elif country in countries %}
        delete from {{ this }} where load_id not in (select distinct _load_id from {{ raw_case_table(country) }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- A raw table as a staging model reads it: in an incremental build of its country, only the rows
    of the exports it has not staged (by_export), each table filtered before it is joined. -#}
{% macro unstaged_rows(relation) -%}
    {%- if execute and is_incremental() and rebuilt_countries() is not none -%}
    (select * from {{ relation }} where _load_id not in (select distinct load_id from {{ this }}))
    {%- else -%}
    {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- The countries this build rebuilds, or none when it rebuilds them all (a full build, a model
    that does not exist yet, a unit test). -#}
{% macro rebuilt_countries() -%}
    {%- if execute and model.resource_type == 'model' and is_incremental() -%}
        {%- set named = env_var('CPWH_REBUILD_COUNTRIES', '') | trim -%}
        {%- if named -%}
            {{ return(named.split(',') | map('trim') | list) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- A country list as SQL: ('KEN', 'NGA'). -#}
{% macro country_list(countries) -%}
    ({%- for code in countries %}'{{ code | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%})
{%- endmacro %}

{#- Before an incremental insert: the rows of the rebuilt countries go (all rows when none are
    named, so a hand-run `dbt build` without --full-refresh still gives whole tables). -#}
{% macro delete_rebuilt_countries() -%}
    {%- if execute and is_incremental() -%}
        {%- set countries = rebuilt_countries() -%}
        delete from {{ this }}
        {%- if countries is not none %} where country_code in {{ country_list(countries) }}{% endif %}
    {%- endif -%}
{%- endmacro %}

{#- A model kept by country, read by another: only the rebuilt countries' rows when this build
    names them. -#}
{% macro country_rows(model_name) -%}
    {%- set relation = ref(model_name) -%}
    {%- set countries = rebuilt_countries() -%}
    {%- if countries is none -%}
        {{ relation }}
    {%- else -%}
        (select * from {{ relation }} where country_code in {{ country_list(countries) }})
    {%- endif -%}
{%- endmacro %}

{#- The children of the rebuilt countries (every country when none is named), each in its own
    country's groups (total, sex, age group) and not in ALL's: what a model kept by country counts.
    ALL is summed from these counts (int_indicators__computed, the analyses and marts). -#}
{% macro own_country_groups() -%}
    (select * from {{ country_rows('int_children__grouped') }} as grouped where country_group = country_code)
{%- endmacro %}

{#- True when a country's staging is rebuilt in this build. -#}
{% macro country_is_rebuilt(country) -%}
    {%- set countries = rebuilt_countries() -%}
    {{ return(countries is none or country in countries) }}
{%- endmacro %}

{#- The end of a model kept by country whose rows come out of joins, windows or a union mixed
    across countries: on DuckDB its rows are stored in country order, so that a country's rows fill
    whole row groups. Deleting a country's rows (the next export of one country) then drops whole
    row groups; spread among the other countries' rows, the deletions made the next checkpoint
    rewrite every row group of the table (scale 10, KEN's next export: about 5 s more of checkpoint,
    inside whichever model's commit triggered it). Spark keeps these models as plain tables, where
    the order would only cost a sort. -#}
{% macro in_country_order() -%}
    {%- if target.type == 'duckdb' %}
order by country_code
    {%- endif -%}
{%- endmacro %}
