"""The project's dbt-duckdb plugins (profiles.yml ``plugins``), one module each as dbt-duckdb wants:
``warehouse_home`` opens the warehouse of ``$CPWH_HOME``, ``cpwh_pseudonym`` registers the SQL function of
that name, ``read_only`` opens the warehouse read-only on request.

They subclass dbt-duckdb's ``BasePlugin``, so importing one imports dbt's adapter (about a second):
only dbt processes do. What Dagster's process needs of them (the variable below) lives here."""

READ_ONLY_VARIABLE = "CPWH_DBT_READ_ONLY"  # "1": the dbt process opens the warehouse read-only
