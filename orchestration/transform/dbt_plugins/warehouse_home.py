"""dbt opens the warehouse of the home in the environment: ``$CPWH_HOME/warehouse.duckdb``.

The path is read when dbt opens the database instead of being rendered into the profile. dbt's
partial parsing compares a hash of the profile's connection settings with the last parse's, and a
profile that named the home made every new home's first dbt command parse the whole project (about
4 s of one core, which a build at scale 1 waited for) although nothing it parses depends on the
path. With one profile for every home, a new home starts from the project's prepared parse (the
warm dbt process copies it), and so does the docs command. Without ``CPWH_HOME`` the profile's own
path stands (``../data/warehouse.duckdb`` beside the project, the default home)."""

import os
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.settings import WAREHOUSE_FILE


class Plugin(BasePlugin):
    def update_connection_config(self, creds, config: dict) -> None:
        home = os.environ.get("CPWH_HOME")
        if home:
            creds.path = str(Path(home) / WAREHOUSE_FILE)
