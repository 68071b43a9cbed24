"""``cpwh_pseudonym(country, id)`` on every dbt-duckdb connection and cursor (``orchestration/pseudonym.py``
has the key and the macro), so the SQL that replaces ids lives in dbt."""

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.pseudonym import load_key, register


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        self.key = load_key()

    def configure_connection(self, conn) -> None:
        register(conn, self.key)

    def configure_cursor(self, cursor) -> None:
        register(cursor, self.key)
