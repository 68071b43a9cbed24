{#- A generic test: none of `columns` is null. One query per model for all its required columns
    (the staging models' lineage and key columns), where not_null per column took one query each;
    a failing row shows every listed column, so the null one is plain to see. -#}
{% test not_null_columns(model, columns) %}
select {{ columns | join(', ') }}
from {{ model }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
