{#- The generic staging of a country export, driven by its profile (country_profiles()).
    Every stg_<iso3>__cases/__concerns/__services model is one call to these macros, so country
    differences stay data. Staging only renames, types, decodes option values to categories and
    pseudonymises; the business rules (age, age group, UASC, closure, duration, the D-flags) are
    plain SQL in the intermediate models over the unioned shape. Nothing personal leaves: no
    names, locations or free text are selected, record ids become keyed pseudonyms, and the date
    of birth is reduced here to the whole years from it to registration. -#}

{% macro country_literal(country) -%}'{{ country }}'{%- endmacro %}

{#- Where a staged row came from: the raw lineage columns under their staging names. -#}
{% macro lineage_columns() -%}
    _export_date as export_date, _load_id as load_id, _source_file as source_file, _source_row as source_row
{%- endmacro %}

{#- The case rows of an export; KEN's four case sheets are one record per row in the same order. -#}
{% macro raw_case_rows(country) -%}
    {%- set p = country_profiles()[country] -%}
    {%- set first = p.case_tables[0] -%}
    select {{ first }}.*
        {%- for table in p.case_tables[1:] %}
        {%- for column in p.raw_columns[table] if column not in ('_id', 'model_type') %}
        , {{ table }}.{{ column }}
        {%- endfor %}
        {%- endfor %}
    from {{ unstaged_rows(source('raw', p.raw_tables[first])) }} as {{ first }}
    {%- for table in p.case_tables[1:] %}
    left join {{ unstaged_rows(source('raw', p.raw_tables[table])) }} as {{ table }}
        on {{ table }}._load_id = {{ first }}._load_id
        and {{ table }}._source_file = {{ first }}._source_file
        and {{ table }}._source_row = {{ first }}._source_row
    {%- endfor %}
{%- endmacro %}

{#- The raw table of a country's first case sheet: every loaded export has rows there. -#}
{% macro raw_case_table(country) -%}
    {%- set p = country_profiles()[country] -%}
    {{- source('raw', p.raw_tables[p.case_tables[0]]) -}}
{%- endmacro %}

{#- Left join of the option lookup for one coded field (a name, or with field_is_column a column
    holding the field name); alias.category is null when the value matches nothing. -#}
{% macro option_join(alias, country, field, value_expression, field_is_column=false) -%}
    left join {{ ref('stg_reference__option_lookup') }} as {{ alias }}
        on {{ alias }}.country_code = {{ country_literal(country) }}
        and {{ alias }}.field = {{ field if field_is_column else "'" ~ field ~ "'" }}
        and {{ alias }}.match_key = {{ normalise_value(value_expression) }}
{%- endmacro %}

{#- True when a value is written exactly as in the country's lists (D11 otherwise). -#}
{% macro is_exact(value_expression, alias, value_style) -%}
    {%- if value_style == 'label' -%}
    ({{ value_expression }} is null or {{ value_expression }} in ({{ alias }}.label_en, {{ alias }}.label_local))
    {%- else -%}
    ({{ value_expression }} is null or {{ value_expression }} = {{ alias }}.option_id)
    {%- endif -%}
{%- endmacro %}

{#- The matched category, 'unmapped' for a value that matches nothing, null for no value. -#}
{% macro category_or_unmapped(value_expression, alias) -%}
    case
        when {{ normalise_value(value_expression) }} is null then null
        else coalesce({{ alias }}.category, 'unmapped')
    end
{%- endmacro %}

{% macro stage_cases(country) -%}
{%- set p = country_profiles()[country] -%}
{{- config(**by_export(country)) -}}
{%- if not country_is_rebuilt(country) -%}
{#- An incremental build of other countries: this one's rows stay as they are. #}
select * from {{ this }} where 1 = 0
{%- else -%}
{%- set fmt = p.raw_date_format -%}
{%- set link_column = 'case_id_display' if p.services.get('refers_to') == 'case_id_display' else p.record_id -%}
with

source as (
    {{ raw_case_rows(country) }}
),

typed as (
    select
        {{ lineage_columns() }},
        {{ pseudonymise(country_literal(country), p.record_id) }} as case_key,
        {{ pseudonymise(country_literal(country), link_column) }} as case_link_key,
        {{ parse_timestamp('last_updated_at') }} as last_updated_at,
        {{ parse_date('registration_date', fmt) }} as registration_date,
        nullif(trim(date_of_birth), '') is not null as has_date_of_birth_text,
        {{ parse_date('date_of_birth', fmt) }} as date_of_birth,
        {{ parse_date('date_closure', fmt) }} as date_closure,
        nullif(trim(age), '') is not null as has_age_text,
        {{ safe_integer('age') }} as age_recorded,
        {%- for canonical, column in p.fields.items() %}
        {{ column }} as {{ canonical }}_value,
        {%- endfor %}
        {%- for column in p.closure_fields %}
        {%- if column in p.multiselect_fields %}
        {{ first_in_list(multiselect_list(column, p.multiselect_style, p.multiselect_separator)) }}
            as closure_{{ loop.index }}_value
        {%- else %}
        {{ column }} as closure_{{ loop.index }}_value
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from source
),

decoded as (
    select
        typed.*,
        {%- for canonical, column in p.fields.items() %}
        {{ category_or_unmapped('typed.' ~ canonical ~ '_value', canonical ~ '_lookup') }} as {{ canonical }}_matched,
        {{ is_exact('typed.' ~ canonical ~ '_value', canonical ~ '_lookup', p.value_style) }} as {{ canonical }}_is_exact,
        {%- endfor %}
        {%- for column in p.closure_fields %}
        {{ category_or_unmapped('typed.closure_' ~ loop.index ~ '_value', 'closure_' ~ loop.index ~ '_lookup') }}
            as closure_{{ loop.index }}_category{{ ',' if not loop.last }}
        {%- endfor %}
    from typed
    {%- for canonical, column in p.fields.items() %}
    {{ option_join(canonical ~ '_lookup', country, column, 'typed.' ~ canonical ~ '_value') }}
    {%- endfor %}
    {%- for column in p.closure_fields %}
    {{ option_join('closure_' ~ loop.index ~ '_lookup', country, column, 'typed.closure_' ~ loop.index ~ '_value') }}
    {%- endfor %}
),

aged as (
    select
        decoded.*,
        {#- The date of birth never leaves staging: only the whole years from it to registration do. #}
        case
            when date_of_birth is not null and registration_date is not null and date_of_birth <= registration_date
                then {{ whole_years_between('date_of_birth', 'registration_date') }}
        end as age_from_date_of_birth
    from decoded
)

select
    {{ country_literal(country) }} as country_code,
    export_date,
    load_id,
    source_file,
    source_row,
    case_key,
    case_link_key,
    last_updated_at,
    registration_date,
    date_closure,
    has_age_text,
    age_recorded,
    has_date_of_birth_text,
    age_from_date_of_birth,
    {%- for canonical in ['status', 'sex', 'displacement', 'uasc', 'risk', 'care'] %}
    {{ canonical }}_value,
    {{ canonical }}_matched as {{ canonical }}_option_category,
    {{ canonical }}_is_exact,
    {%- endfor %}
    closure_1_category as closure_first_category,
    {%- if p.closure_fields | length > 1 %}
    closure_2_category as closure_second_category,
    true as has_second_closure_field
    {%- else %}
    cast(null as {{ dbt.type_string() }}) as closure_second_category,
    false as has_second_closure_field
    {%- endif %}
from aged
{%- endif %}
{%- endmacro %}

{% macro stage_concerns(country) -%}
{%- set p = country_profiles()[country] -%}
{{- config(**by_export(country)) -}}
{%- if not country_is_rebuilt(country) -%}
{#- An incremental build of other countries: this one's rows stay as they are. #}
select * from {{ this }} where 1 = 0
{%- else -%}
with

source as (
    {{ raw_case_rows(country) }}
),

exploded as (
    {%- for field in p.concern_fields %}
    select
        {{ lineage_columns() }},
        {{ pseudonymise(country_literal(country), p.record_id) }} as case_key,
        '{{ field }}' as concern_field,
        {{ explode_list(multiselect_list(field, p.multiselect_style, p.multiselect_separator)) }} as concern_value
    from source
    where nullif(trim({{ field }}), '') is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    {{ country_literal(country) }} as country_code,
    exploded.export_date,
    exploded.load_id,
    exploded.source_file,
    exploded.source_row,
    exploded.case_key,
    exploded.concern_field,
    exploded.concern_value,
    concern_lookup.option_id,
    coalesce(concern_lookup.category, 'unmapped') as concern_category,
    {{ is_exact('exploded.concern_value', 'concern_lookup', p.value_style) }} as is_exact
from exploded
{{ option_join('concern_lookup', country, 'exploded.concern_field', 'exploded.concern_value', field_is_column=true) }}
where {{ normalise_value('exploded.concern_value') }} is not null
{%- endif %}
{%- endmacro %}

{% macro stage_services(country) -%}
{%- set p = country_profiles()[country] -%}
{{- config(**by_export(country)) -}}
{%- if not country_is_rebuilt(country) -%}
{#- An incremental build of other countries: this one's rows stay as they are. #}
select * from {{ this }} where 1 = 0
{%- else -%}
{%- set s = p.services -%}
{%- set fmt = p.raw_date_format -%}
with

{%- if s.layout == 'wide' %}
source as (
    {{ raw_case_rows(country) }}
),

services as (
    {%- for slot in range(1, p.wide_services.slots + 1) %}
    {%- set prefix = p.wide_services.prefix ~ slot ~ '_' %}
    select
        {{ lineage_columns() }},
        {{ slot }} as item_index,
        true as is_embedded_in_case_row,
        {{ pseudonymise(country_literal(country), p.record_id) }} as case_link_key,
        {{ pseudonymise(country_literal(country), prefix ~ 'unique_id') }} as service_key,
        {{ prefix }}service_type as service_type_value,
        {{ prefix }}service_implemented_day_time as service_date_text,
        nullif(trim({{ prefix }}service_implemented_day_time), '') is not null as is_implemented
    from source
    where coalesce(nullif(trim({{ prefix }}unique_id), ''), nullif(trim({{ prefix }}service_type), '')) is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),
{%- else %}
source as (
    select * from {{ unstaged_rows(source('raw', p.raw_tables[s.table])) }}
),

services as (
    select
        {{ lineage_columns() }},
        _item_index as item_index,
        {{ 'true' if s.layout == 'nested' else 'false' }} as is_embedded_in_case_row,
        {{ pseudonymise(country_literal(country), s.case_key if s.layout == 'table' else 'case_id') }}
            as case_link_key,
        {{ pseudonymise(country_literal(country), 'unique_id') }} as service_key,
        service_type as service_type_value,
        service_implemented_day_time as service_date_text,
        implemented_lookup.category = 'implemented' as is_implemented
    from source
    {{ option_join('implemented_lookup', country, 'service_implemented', 'source.service_implemented') }}
),
{%- endif %}

decoded as (
    select
        services.*,
        {{ category_or_unmapped('services.service_type_value', 'service_lookup') }} as service_category,
        {{ is_exact('services.service_type_value', 'service_lookup', p.value_style) }} as service_type_is_exact
    from services
    {{ option_join('service_lookup', country, 'service_type', 'services.service_type_value') }}
)

select
    {{ country_literal(country) }} as country_code,
    export_date,
    load_id,
    source_file,
    source_row,
    item_index,
    '{{ s.layout }}' as service_layout,
    is_embedded_in_case_row,
    case_link_key,
    service_key,
    service_type_value,
    coalesce(service_category, 'missing') as service_category,
    service_type_is_exact,
    coalesce(is_implemented, false) as is_implemented,
    {{ parse_date('service_date_text', fmt) }} as service_date
from decoded
{%- endif %}
{%- endmacro %}
