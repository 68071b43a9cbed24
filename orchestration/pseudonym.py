"""Keyed pseudonyms for case ids: HMAC-SHA256 of ``<country>:<id>`` with a secret key.

The key comes from ``CPWH_PSEUDONYM_KEY``; without it, a random key is created once in
``$CPWH_HOME/pseudonym.key`` (owner-only permissions) and reused, so pseudonyms are stable across
runs. The key is never logged. ``Plugin`` registers ``cpwh_pseudonym(country, id)`` on dbt-duckdb
connections (profiles.yml ``plugins``), so the SQL that replaces ids lives in dbt. The Parquet raw
layer for Spark (``ingest/lake.py``) registers the same function where it writes the raw rows, so
both engines give the same pseudonyms and Spark never holds the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin

KEY_ENVIRONMENT_VARIABLE = "CPWH_PSEUDONYM_KEY"
KEY_FILE_NAME = "pseudonym.key"


def load_key(home: Path | None = None) -> bytes:
    configured = os.environ.get(KEY_ENVIRONMENT_VARIABLE)
    if configured:
        return configured.encode("utf-8")
    home = Path(home or os.environ.get("CPWH_HOME") or "data")
    path = home / KEY_FILE_NAME
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def pseudonym(key: bytes, country: str, record_id: str) -> str:
    return hmac.new(key, f"{country}:{record_id}".encode(), hashlib.sha256).hexdigest()


def key_check(key: bytes) -> str:
    """A short check value of the key (a keyed hash of a constant): tells files written with another
    key apart without revealing anything about it."""
    return hmac.new(key, b"cpwh key check", hashlib.sha256).hexdigest()[:12]


def register(conn, key: bytes) -> None:
    """``cpwh_pseudonym(country, id)`` on a DuckDB connection (null for a null id)."""

    def cpwh_pseudonym(country: str, record_id: str) -> str:
        return pseudonym(key, country, record_id.strip())

    conn.create_function("cpwh_pseudonym", cpwh_pseudonym, ["VARCHAR", "VARCHAR"], "VARCHAR", side_effects=False)


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        self.key = load_key()

    def configure_connection(self, conn) -> None:
        register(conn, self.key)
