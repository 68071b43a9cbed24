"""CP case-management data warehouse: the Dagster code location and the library under it."""
