"""Transform: the dbt project as Dagster assets, and what the dbt macros know of the profiles."""
