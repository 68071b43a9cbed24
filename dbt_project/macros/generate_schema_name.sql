{#- Layers are schemas with plain names (staging, intermediate, marts, reference), not
    <target>_<layer>: analysts query marts.fct_cases, and the raw loader owns schema raw. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
