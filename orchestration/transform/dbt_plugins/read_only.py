"""A dbt process started with ``CPWH_DBT_READ_ONLY=1`` opens the warehouse read-only.

``dbt docs generate`` only reads the warehouse (its catalog), so it runs beside the checks and the
publication, which read it too; DuckDB lets processes share a file when none of them writes. Set in
the environment rather than in the profile: a changed profile makes dbt parse the whole project."""

import os

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.transform.dbt_plugins import READ_ONLY_VARIABLE


class Plugin(BasePlugin):
    def update_connection_config(self, creds, config: dict) -> None:
        if os.environ.get(READ_ONLY_VARIABLE) == "1":
            config["access_mode"] = "READ_ONLY"
