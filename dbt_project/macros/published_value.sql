{#- A figure as the wide marts publish it: null where mart_indicators marks the cell suppressed. -#}
{% macro published(column) -%}
    case when not suppressed then {{ column }} end
{%- endmacro %}
