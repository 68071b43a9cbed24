{#- A generic test: none of `columns` is null. One query per model or seed for all its required
    columns, where not_null per column took one query (and one dbt node, about 30 ms of dbt's own
    work) each: every required column of the project is listed here, not tested by not_null. A
    failing row shows every listed column, so the null one is plain to see. -#}
{% test not_null_columns(model, columns) %}
select {{ columns | join(', ') }}
from {{ model }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
