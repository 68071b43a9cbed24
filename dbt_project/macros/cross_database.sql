{#- Engine-specific SQL behind adapter.dispatch: the models call these, never the functions.
    The default__ implementations are DuckDB's; the Spark issue adds spark__ ones. -#}

{% macro normalise_value(expression) -%}
    {{ return(adapter.dispatch('normalise_value', 'cpwh')(expression)) }}
{%- endmacro %}
{% macro default__normalise_value(expression) -%}
    nullif(lower(regexp_replace(trim({{ expression }}), '\s+', ' ', 'g')), '')
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

{% macro parse_timestamp(expression) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'cpwh')(expression)) }}
{%- endmacro %}
{% macro default__parse_timestamp(expression) -%}
    try_strptime(trim({{ expression }}), '%Y-%m-%dT%H:%M:%SZ')
{%- endmacro %}

{% macro safe_integer(expression) -%}
    {{ return(adapter.dispatch('safe_integer', 'cpwh')(expression)) }}
{%- endmacro %}
{% macro default__safe_integer(expression) -%}
    try_cast(try_cast(trim({{ expression }}) as double) as integer)
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

{#- One row per list element, used in a select list. -#}
{% macro explode_list(list_expression) -%}
    {{ return(adapter.dispatch('explode_list', 'cpwh')(list_expression)) }}
{%- endmacro %}
{% macro default__explode_list(list_expression) -%}
    unnest({{ list_expression }})
{%- endmacro %}

{% macro first_in_list(list_expression) -%}
    {{ return(adapter.dispatch('first_in_list', 'cpwh')(list_expression)) }}
{%- endmacro %}
{% macro default__first_in_list(list_expression) -%}
    ({{ list_expression }})[1]
{%- endmacro %}

{#- Keyed pseudonym of a record id (HMAC-SHA256; the key never enters SQL text). -#}
{% macro pseudonymise(country_code, expression) -%}
    {{ return(adapter.dispatch('pseudonymise', 'cpwh')(country_code, expression)) }}
{%- endmacro %}
{% macro default__pseudonymise(country_code, expression) -%}
    cpwh_pseudonym({{ country_code }}, nullif(trim({{ expression }}), ''))
{%- endmacro %}

{% macro median_of(expression) -%}
    {{ return(adapter.dispatch('median_of', 'cpwh')(expression)) }}
{%- endmacro %}
{% macro default__median_of(expression) -%}
    median({{ expression }})
{%- endmacro %}
